namespace AvatarKit.Tests;

public sealed class AudioFormatTests
{
    [Fact]
    public void Byte_count_and_duration_are_inverse_for_whole_sample_frames()
    {
        var format = new AudioFormat(24_000, 2);
        var bytes = format.GetByteCount(TimeSpan.FromMilliseconds(20));
        Assert.Equal(480 * 4, bytes);
        Assert.Equal(TimeSpan.FromMilliseconds(20), format.GetDuration(bytes));
    }

    [Theory]
    [InlineData(7_999, 1)]
    [InlineData(16_000, 0)]
    [InlineData(16_000, 9)]
    public void Out_of_range_formats_are_rejected(int rate, int channels) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new AudioFormat(rate, channels));
}
