using AvatarKit.Recording.Session;

namespace AvatarKit.Recording.Tests;

/// <summary>Placement of audio on the media sample grid.</summary>
public sealed class AudioTrackBufferTests
{
    [Fact]
    public void Gaps_read_as_silence_and_frames_land_at_their_sample_position()
    {
        using var buffer = new AudioTrackBuffer();
        buffer.Add(Frame(100, value: 7), start: 1_000);
        var tick = new short[1_920];

        buffer.MixInto(tick, 0);

        Assert.All(tick[..1_000], s => Assert.Equal(0, s));
        Assert.All(tick[1_000..1_100], s => Assert.Equal(7, s));
        Assert.All(tick[1_100..], s => Assert.Equal(0, s));
    }

    [Fact]
    public void Frames_with_jittery_timestamps_are_joined_without_gaps_or_overlap()
    {
        using var buffer = new AudioTrackBuffer();
        buffer.Add(Frame(960, value: 1), start: 0);
        buffer.Add(Frame(960, value: 2), start: 960 + 30); // 0.6 ms of timestamp jitter
        var tick = new short[1_920];

        buffer.MixInto(tick, 0);

        Assert.All(tick[..960], s => Assert.Equal(1, s));
        Assert.All(tick[960..], s => Assert.Equal(2, s));
    }

    [Fact]
    public void A_frame_spanning_two_ticks_is_split_and_late_samples_are_counted_not_written()
    {
        using var buffer = new AudioTrackBuffer();
        buffer.Add(Frame(3_000, value: 5), start: 500);
        var first = new short[1_920];
        var second = new short[1_920];

        buffer.MixInto(first, 0);
        buffer.MixInto(second, 1_920);

        Assert.Equal(0, first[499]);
        Assert.All(first[500..], s => Assert.Equal(5, s));
        Assert.All(second[..(3_500 - 1_920)], s => Assert.Equal(5, s));
        Assert.All(second[(3_500 - 1_920)..], s => Assert.Equal(0, s));
        Assert.Equal(0, buffer.LateSamples);

        buffer.Add(Frame(100, value: 9), start: 10_000);
        buffer.MixInto(new short[1_920], 20_000);
        Assert.Equal(100, buffer.LateSamples);
    }

    [Fact]
    public void Mixing_saturates_instead_of_wrapping()
    {
        using var buffer = new AudioTrackBuffer();
        buffer.Add(Frame(10, value: 30_000), start: 0);
        var tick = new short[10];
        Array.Fill(tick, (short)10_000);

        buffer.MixInto(tick, 0);

        Assert.All(tick, s => Assert.Equal(short.MaxValue, s));
    }

    private static AudioFrame Frame(int samples, short value)
    {
        var frame = AudioFrame.Rent(AudioFormat.Pcm16Mono48kHz, samples * 2, TimeSpan.Zero);
        frame.Samples.Fill(value);
        return frame;
    }
}
