using AvatarKit.Speech.Deepgram;

namespace AvatarKit.Speech.Tests.Deepgram;

public sealed class DeepgramOptionsTests
{
    [Fact]
    public void Defaults_with_a_key_are_valid()
    {
        Assert.Empty(new DeepgramOptions { ApiKey = "k" }.Validate());
    }

    [Fact]
    public void Each_invalid_setting_is_named_with_how_to_fix_it()
    {
        var options = new DeepgramOptions
        {
            BaseUrl = new Uri("ftp://example.com"),
            Listen = { Encoding = "opus", SampleRate = 1000, InterimResults = false, KeepAliveInterval = TimeSpan.FromSeconds(12) },
            Speak = { SampleRate = 44_100 },
        };

        var problems = options.Validate().ToList();

        Assert.Contains(problems, p => p.Contains("DEEPGRAM_API_KEY", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("BaseUrl", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Listen.Encoding", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Listen.SampleRate", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Listen.UtteranceEnd", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Listen.KeepAliveInterval", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Speak.SampleRate", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => new DeepgramSpeechToTextClient(options));
    }
}
