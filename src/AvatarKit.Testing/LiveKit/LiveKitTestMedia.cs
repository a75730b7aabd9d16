namespace AvatarKit.Testing;

/// <summary>
/// Known media an emulated participant publishes so tests can check what arrives after real
/// encoding and decoding: four vertical colour bars (flat I420 values survive VP8 well) and a sine tone.
/// </summary>
public static class LiveKitTestMedia
{
    /// <summary>The Y, U and V values of the four bars, left to right.</summary>
    public static IReadOnlyList<(byte Y, byte U, byte V)> Bars { get; } = [(50, 90, 160), (110, 160, 90), (170, 100, 150), (230, 150, 100)];

    /// <summary>The tone's frequency in hertz.</summary>
    public const double ToneFrequency = 440;

    /// <summary>The tone's peak amplitude in PCM16 units.</summary>
    public const short ToneAmplitude = 8000;

    /// <summary>Creates an I420 frame of the bar pattern.</summary>
    /// <param name="width">Width (even).</param>
    /// <param name="height">Height (even).</param>
    /// <param name="timestamp">The frame's timestamp.</param>
    /// <returns>A frame the caller owns.</returns>
    public static VideoFrame CreateBarsFrame(int width, int height, TimeSpan timestamp)
    {
        var frame = VideoFrame.Rent(width, height, VideoPixelFormat.I420, timestamp);
        Fill(frame.PlaneY, width, height, b => b.Y);
        Fill(frame.PlaneU, frame.ChromaWidth, frame.ChromaHeight, b => b.U);
        Fill(frame.PlaneV, frame.ChromaWidth, frame.ChromaHeight, b => b.V);
        return frame;
    }

    /// <summary>Gets the bar index at a horizontal position.</summary>
    /// <param name="x">The column.</param>
    /// <param name="width">The plane width.</param>
    /// <returns>0 to 3.</returns>
    public static int BarAt(int x, int width) => Math.Min(3, x * 4 / width);

    /// <summary>Writes <paramref name="sampleCount"/> samples of the tone, continuing at <paramref name="firstSample"/>.</summary>
    /// <param name="format">The audio format (every channel gets the tone).</param>
    /// <param name="firstSample">The index of the first sample frame in the stream.</param>
    /// <param name="sampleCount">Sample frames to write.</param>
    /// <returns>A frame the caller owns.</returns>
    public static AudioFrame CreateToneFrame(AudioFormat format, long firstSample, int sampleCount)
    {
        var frame = AudioFrame.Rent(format, sampleCount * format.BlockAlign, TimeSpan.FromSeconds((double)firstSample / format.SampleRate));
        var samples = frame.Samples;
        for (var i = 0; i < sampleCount; i++)
        {
            var value = (short)(ToneAmplitude * Math.Sin(2 * Math.PI * ToneFrequency * (firstSample + i) / format.SampleRate));
            for (var c = 0; c < format.Channels; c++)
            {
                samples[i * format.Channels + c] = value;
            }
        }

        return frame;
    }

    /// <summary>
    /// Estimates the frequency of a tone in mono PCM16 samples from the median distance between
    /// rising zero crossings (robust to the short gaps a loaded machine causes in real-time audio).
    /// </summary>
    /// <param name="samples">The samples.</param>
    /// <param name="sampleRate">The sample rate.</param>
    /// <returns>The frequency in hertz, or 0 when there is no tone.</returns>
    public static double EstimateFrequency(ReadOnlySpan<short> samples, int sampleRate)
    {
        var periods = new List<double>();
        var previous = -1.0;
        for (var i = 1; i < samples.Length; i++)
        {
            if (samples[i - 1] < 0 && samples[i] >= 0)
            {
                // Interpolate where the signal crosses zero for sub-sample precision.
                var crossing = i - 1 + (double)-samples[i - 1] / (samples[i] - samples[i - 1]);
                if (previous >= 0)
                {
                    periods.Add(crossing - previous);
                }

                previous = crossing;
            }
        }

        if (periods.Count == 0)
        {
            return 0;
        }

        periods.Sort();
        return sampleRate / periods[periods.Count / 2];
    }

    private static void Fill(Span<byte> plane, int width, int height, Func<(byte Y, byte U, byte V), byte> value)
    {
        for (var x = 0; x < width; x++)
        {
            var v = value(Bars[BarAt(x, width)]);
            for (var y = 0; y < height; y++)
            {
                plane[y * width + x] = v;
            }
        }
    }
}
