using AvatarKit.Speech.Deepgram;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace AvatarKit.Speech.Tests;

public sealed class DeepgramDependencyInjectionTests
{
    [Fact]
    public void AddDeepgram_registers_the_speech_clients_as_M_E_AI_singletons()
    {
        var services = new ServiceCollection();
        services.AddAvatarKit().AddDeepgram(o =>
        {
            o.ApiKey = "key";
            o.Listen.Model = "nova-2";
        });
        using var provider = services.BuildServiceProvider();

        var stt = provider.GetRequiredService<ISpeechToTextClient>();
        var tts = provider.GetRequiredService<ITextToSpeechClient>();

        Assert.IsType<DeepgramSpeechToTextClient>(stt);
        Assert.IsType<DeepgramTextToSpeechClient>(tts);
        Assert.Same(stt, provider.GetRequiredService<DeepgramSpeechToTextClient>());
        Assert.Equal("nova-2", stt.GetService<SpeechToTextClientMetadata>()!.DefaultModelId);
    }

    [Fact]
    public void Invalid_settings_fail_validation_naming_the_setting()
    {
        var services = new ServiceCollection();
        services.AddAvatarKit().AddDeepgram(o =>
        {
            o.ApiKey = string.Empty;
            o.Listen.SampleRate = 3;
        });
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<DeepgramOptions>>().Value);

        Assert.Contains(error.Failures, f => f.Contains("DEEPGRAM_API_KEY", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("Listen.SampleRate", StringComparison.Ordinal));
    }
}
