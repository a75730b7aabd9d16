namespace AvatarKit;

/// <summary>Converts audio frames between PCM16 formats (channels and rate) with <see cref="Pcm16"/>.</summary>
public static class AudioConversion
{
    /// <summary>Returns a new frame with <paramref name="frame"/>'s audio in <paramref name="format"/>; the caller owns both.</summary>
    /// <param name="frame">The source frame.</param>
    /// <param name="format">The target format (mono or stereo when converting channels).</param>
    /// <returns>A new frame, with the source's timestamp.</returns>
    /// <exception cref="NotSupportedException">A channel conversion other than mono↔stereo or N→mono was asked for.</exception>
    public static AudioFrame Convert(AudioFrame frame, AudioFormat format)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (frame.Format == format)
        {
            return frame.Clone();
        }

        var source = frame.Format;
        ReadOnlySpan<short> samples = frame.Samples;
        var mono = samples;
        short[]? monoBuffer = null;
        try
        {
            if (source.Channels != 1)
            {
                monoBuffer = System.Buffers.ArrayPool<short>.Shared.Rent(frame.SampleCount);
                var monoSpan = monoBuffer.AsSpan(0, frame.SampleCount);
                DownmixToMono(samples, source.Channels, monoSpan);
                mono = monoSpan;
            }

            var resampledCount = Pcm16.GetResampledLength(mono.Length, source.SampleRate, format.SampleRate);
            var result = AudioFrame.Rent(format, resampledCount * format.BlockAlign, frame.Timestamp);
            var output = result.Samples;
            Pcm16.Resample(mono, source.SampleRate, output, format.SampleRate);
            if (format.Channels == 2)
            {
                Pcm16.MonoToStereo(output[..resampledCount], output);
            }
            else if (format.Channels != 1)
            {
                result.Dispose();
                throw new NotSupportedException($"Converting {source} to {format} is not supported; ask for mono or stereo.");
            }

            return result;
        }
        finally
        {
            if (monoBuffer is not null)
            {
                System.Buffers.ArrayPool<short>.Shared.Return(monoBuffer);
            }
        }
    }

    private static void DownmixToMono(ReadOnlySpan<short> interleaved, int channels, Span<short> mono)
    {
        for (var i = 0; i < mono.Length; i++)
        {
            var sum = 0;
            for (var c = 0; c < channels; c++)
            {
                sum += interleaved[i * channels + c];
            }

            mono[i] = (short)(sum / channels);
        }
    }
}
