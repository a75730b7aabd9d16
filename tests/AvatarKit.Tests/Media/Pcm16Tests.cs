namespace AvatarKit.Tests.Media;

public sealed class Pcm16Tests
{
    [Fact]
    public void Bytes_and_samples_round_trip()
    {
        short[] samples = [0, 1, -1, short.MaxValue, short.MinValue, 12345, -23456];
        var bytes = new byte[samples.Length * 2];

        Pcm16.ToBytes(samples, bytes);
        var back = new short[samples.Length];
        Pcm16.ToSamples(bytes, back);

        Assert.Equal(samples, back);
        Assert.Equal(samples, Pcm16.AsSamples(bytes).ToArray());
        Assert.Equal(0x39, bytes[10]); // little-endian: 12345 = 0x3039
    }

    [Fact]
    public void Odd_byte_counts_are_rejected() =>
        Assert.Throws<ArgumentException>(() => Pcm16.ToSamples(new byte[3], new short[2]));

    [Fact]
    public void Too_small_destinations_are_rejected() =>
        Assert.Throws<ArgumentException>(() => Pcm16.Resample(new short[160], 16_000, new short[239], 24_000));

    [Fact]
    public void Mono_to_stereo_and_back_is_lossless()
    {
        short[] mono = [100, -200, 300, short.MaxValue];
        var stereo = new short[8];

        Pcm16.MonoToStereo(mono, stereo);
        var back = new short[4];
        Pcm16.StereoToMono(stereo, back);

        Assert.Equal([100, 100, -200, -200, 300, 300, short.MaxValue, short.MaxValue], stereo);
        Assert.Equal(mono, back);
    }

    [Fact]
    public void Stereo_to_mono_averages_the_channels()
    {
        var mono = new short[2];
        Pcm16.StereoToMono([1000, 3000, -1000, 1000], mono);
        Assert.Equal([2000, 0], mono);
    }

    [Theory]
    [InlineData(16_000, 24_000)]
    [InlineData(24_000, 16_000)]
    [InlineData(16_000, 48_000)]
    [InlineData(48_000, 16_000)]
    [InlineData(24_000, 48_000)]
    [InlineData(48_000, 24_000)]
    public void Resampling_keeps_a_440_hz_tone_frequency_and_level(int fromRate, int toRate)
    {
        var tone = Tone(440, fromRate, seconds: 1, amplitude: 0.5);
        var output = new short[Pcm16.GetResampledLength(tone.Length, fromRate, toRate)];

        var written = Pcm16.Resample(tone, fromRate, output, toRate);

        Assert.Equal(toRate, written);
        Assert.InRange(DominantFrequency(output, toRate), 439, 441);
        Assert.InRange(Pcm16.GetRmsDbfs(output) - Pcm16.GetRmsDbfs(tone), -1.0, 1.0);
    }

    [Fact]
    public void Resampling_at_the_same_rate_copies()
    {
        var tone = Tone(440, 16_000, 0.01, 0.5);
        var output = new short[tone.Length];
        Pcm16.Resample(tone, 16_000, output, 16_000);
        Assert.Equal(tone, output);
    }

    [Fact]
    public void Float_samples_are_clipped_to_the_pcm16_range()
    {
        var output = new short[3];
        Pcm16.FromFloat([2f, -2f, 0.5f], output);
        Assert.Equal([short.MaxValue, short.MinValue, (short)16384], output);
    }

    [Fact]
    public void A_full_scale_sine_is_about_minus_three_dbfs() =>
        Assert.InRange(Pcm16.GetRmsDbfs(Tone(1000, 48_000, 1, 1.0)), -3.1, -2.9);

    [Fact]
    public void Converting_a_stereo_48k_frame_to_mono_16k_keeps_the_tone()
    {
        var mono = Tone(440, 48_000, 0.5, 0.5);
        var stereo = new short[mono.Length * 2];
        Pcm16.MonoToStereo(mono, stereo);
        using var frame = AudioFrame.Copy(new AudioFormat(48_000, 2), stereo, TimeSpan.FromSeconds(2));

        using var converted = AudioConversion.Convert(frame, AudioFormat.Pcm16Mono16kHz);

        Assert.Equal(AudioFormat.Pcm16Mono16kHz, converted.Format);
        Assert.Equal(8_000, converted.SampleCount);
        Assert.Equal(TimeSpan.FromSeconds(2), converted.Timestamp);
        Assert.InRange(DominantFrequency(converted.Samples.ToArray(), 16_000), 438, 442);
    }

    internal static short[] Tone(double frequency, int rate, double seconds, double amplitude)
    {
        var samples = new short[(int)(rate * seconds)];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = (short)Math.Round(amplitude * short.MaxValue * Math.Sin(2 * Math.PI * frequency * i / rate));
        }

        return samples;
    }

    /// <summary>Frequency from rising zero crossings, interpolated between samples.</summary>
    internal static double DominantFrequency(short[] samples, int rate)
    {
        double first = -1, last = -1;
        var crossings = 0;
        for (var i = 1; i < samples.Length; i++)
        {
            if (samples[i - 1] < 0 && samples[i] >= 0)
            {
                var position = i - 1 + (double)-samples[i - 1] / (samples[i] - samples[i - 1]);
                if (first < 0)
                {
                    first = position;
                }
                else
                {
                    crossings++;
                }

                last = position;
            }
        }

        return crossings * rate / (last - first);
    }
}
