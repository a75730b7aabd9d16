namespace AvatarKit.Tests.Media;

public sealed class FrameTests
{
    [Fact]
    public void Disposing_an_audio_frame_twice_returns_its_buffer_exactly_once()
    {
        var pool = new CountingArrayPool();
        var frame = AudioFrame.Rent(AudioFormat.Pcm16Mono16kHz, 640, TimeSpan.Zero, pool);

        frame.Dispose();
        frame.Dispose();

        Assert.Equal(1, pool.Rented);
        Assert.Equal(1, pool.Returned);
        Assert.True(frame.IsDisposed);
    }

    [Fact]
    public void Disposing_a_video_frame_from_many_threads_returns_its_buffer_exactly_once()
    {
        var pool = new CountingArrayPool();
        var frames = Enumerable.Range(0, 200).Select(i => VideoFrame.Rent(64, 48, VideoPixelFormat.I420, TimeSpan.FromMilliseconds(i), pool)).ToArray();

        Parallel.For(0, 8, _ => Array.ForEach(frames, f => f.Dispose()));

        Assert.Equal(200, pool.Returned);
        Assert.Equal(1, pool.MaxReturnsOfOneBuffer);
    }

    [Fact]
    public void A_disposed_frame_refuses_access_to_its_bytes()
    {
        var frame = AudioFrame.Copy(AudioFormat.Pcm16Mono24kHz, new short[] { 1, 2, 3 }, TimeSpan.Zero);
        frame.Dispose();

        Assert.Throws<ObjectDisposedException>(() => frame.Span.Length);
        Assert.Throws<ObjectDisposedException>(() => frame.Samples.Length);
    }

    [Theory]
    [InlineData(1280, 720, 1_382_400)]
    [InlineData(640, 480, 460_800)]
    [InlineData(2, 2, 6)]
    public void An_even_sized_I420_frame_is_width_times_height_times_three_halves(int width, int height, int expected)
    {
        Assert.Equal(expected, VideoFrame.GetByteCount(width, height, VideoPixelFormat.I420));
        Assert.Equal(width * height * 3 / 2, expected);
        using var frame = VideoFrame.Rent(width, height, VideoPixelFormat.I420, TimeSpan.Zero);
        Assert.Equal(expected, frame.Length);
        Assert.Equal(width * height, frame.PlaneY.Length);
        Assert.Equal(width * height / 4, frame.PlaneU.Length);
        Assert.Equal(width * height / 4, frame.PlaneV.Length);
    }

    [Fact]
    public void An_odd_sized_I420_frame_rounds_its_chroma_planes_up() =>
        Assert.Equal(3 * 3 + 2 * 2 * 2, VideoFrame.GetByteCount(3, 3, VideoPixelFormat.I420));

    [Fact]
    public void Copying_pixels_of_the_wrong_size_is_rejected_with_the_expected_size_in_the_message()
    {
        var error = Assert.Throws<ArgumentException>(() => VideoFrame.Copy(4, 4, VideoPixelFormat.Rgba, new byte[63], TimeSpan.Zero));

        Assert.Contains("64", error.Message, StringComparison.Ordinal);
        Assert.Contains("63", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 10)]
    [InlineData(10, -1)]
    [InlineData(20_000, 10)]
    public void Impossible_video_sizes_are_rejected(int width, int height) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => VideoFrame.Rent(width, height, VideoPixelFormat.I420, TimeSpan.Zero));

    [Fact]
    public void Negative_timestamps_are_rejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => AudioFrame.Rent(AudioFormat.Pcm16Mono16kHz, 2, TimeSpan.FromTicks(-1)));

    [Fact]
    public void An_audio_frame_must_hold_whole_sample_frames()
    {
        var stereo = new AudioFormat(48_000, 2);

        var error = Assert.Throws<ArgumentException>(() => AudioFrame.Rent(stereo, 6, TimeSpan.Zero));

        Assert.Contains("4 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_audio_frame_knows_its_duration_and_sample_count()
    {
        using var frame = AudioFrame.Rent(AudioFormat.Pcm16Mono48kHz, AudioFormat.Pcm16Mono48kHz.GetByteCount(TimeSpan.FromMilliseconds(10)), TimeSpan.FromSeconds(1));

        Assert.Equal(480, frame.SampleCount);
        Assert.Equal(TimeSpan.FromMilliseconds(10), frame.Duration);
        Assert.Equal(TimeSpan.FromSeconds(1), frame.Timestamp);
    }

    [Fact]
    public void Planes_exist_only_in_I420_frames()
    {
        using var frame = VideoFrame.Rent(4, 4, VideoPixelFormat.Rgba, TimeSpan.Zero);

        Assert.Throws<InvalidOperationException>(() => frame.PlaneY.Length);
    }

    [Fact]
    public void Rgba_to_I420_and_back_keeps_colours_within_a_few_levels()
    {
        byte[][] colours = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [20, 20, 20], [200, 120, 40]];
        foreach (var colour in colours)
        {
            var rgba = new byte[16 * 16 * 4];
            for (var i = 0; i < rgba.Length; i += 4)
            {
                rgba[i] = colour[0];
                rgba[i + 1] = colour[1];
                rgba[i + 2] = colour[2];
                rgba[i + 3] = 255;
            }

            using var source = VideoFrame.Copy(16, 16, VideoPixelFormat.Rgba, rgba, TimeSpan.FromMilliseconds(40));
            using var i420 = source.ConvertTo(VideoPixelFormat.I420);
            using var back = i420.ConvertTo(VideoPixelFormat.Rgba);

            Assert.Equal(TimeSpan.FromMilliseconds(40), back.Timestamp);
            for (var c = 0; c < 3; c++)
            {
                Assert.InRange(back.Span[c], colour[c] - 4, colour[c] + 4);
            }
        }
    }
}
