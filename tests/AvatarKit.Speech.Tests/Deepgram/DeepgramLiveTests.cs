using AvatarKit.Speech.Deepgram;
using AvatarKit.Testing.Voice;
using Microsoft.Extensions.AI;

namespace AvatarKit.Speech.Tests.Deepgram;

/// <summary>Against the real Deepgram service; skipped unless DEEPGRAM_API_KEY is set.</summary>
public sealed class DeepgramLiveTests
{
    private static readonly string? ApiKey = Environment.GetEnvironmentVariable("DEEPGRAM_API_KEY");

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Live_transcription_of_an_espeak_recording_returns_its_words()
    {
        Assert.SkipWhen(string.IsNullOrWhiteSpace(ApiKey), "DEEPGRAM_API_KEY is not set");
        Assert.SkipUnless(EspeakTextToSpeechClient.IsAvailable, "espeak-ng is not installed");
        using var client = new DeepgramSpeechToTextClient(new DeepgramOptions { ApiKey = ApiKey });
        var pcm = await SpokenWav.SynthesizePcmAsync("Hello avatar, what is the weather like today?", 16_000, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(1.5), Token);

        var response = await client.GetStreamingTextAsync(TestAudio.Frames(pcm, cancellationToken: Token), cancellationToken: Token).ToSpeechToTextResponseAsync(Token);

        Assert.Contains("weather", response.Text, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Aura_synthesizes_audible_PCM_at_the_requested_rate()
    {
        Assert.SkipWhen(string.IsNullOrWhiteSpace(ApiKey), "DEEPGRAM_API_KEY is not set");
        using var client = new DeepgramTextToSpeechClient(new DeepgramOptions { ApiKey = ApiKey });

        var response = await client.GetAudioAsync("Hello from AvatarKit.", new TextToSpeechOptions { AdditionalProperties = new() { [DeepgramTextToSpeechClient.SampleRateKey] = 16_000 } }, Token);

        var audio = Assert.IsType<DataContent>(Assert.Single(response.Contents));
        Assert.Equal("audio/pcm;rate=16000;channels=1", audio.MediaType);
        Assert.InRange(audio.Data.Length / 32_000.0, 0.5, 5.0);
        Assert.True(Pcm16.GetRmsDbfs(Pcm16.AsSamples(audio.Data.Span)) > -40);
    }
}
