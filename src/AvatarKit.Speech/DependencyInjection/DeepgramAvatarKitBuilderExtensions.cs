using AvatarKit;
using AvatarKit.Speech.Capture;
using AvatarKit.Speech.Deepgram;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Deepgram speech and the microphone on an <see cref="AvatarKitBuilder"/>.</summary>
public static class DeepgramAvatarKitBuilderExtensions
{
    /// <summary>The name of the <see cref="HttpClient"/> the Deepgram clients use.</summary>
    public const string HttpClientName = "AvatarKit.Deepgram";

    /// <summary>
    /// Registers <see cref="DeepgramOptions"/> (section <c>AvatarKit:Deepgram</c>, API key falling back to
    /// <c>DEEPGRAM_API_KEY</c>, validated at start), <see cref="DeepgramSpeechToTextClient"/> as
    /// <see cref="ISpeechToTextClient"/>, <see cref="DeepgramTextToSpeechClient"/> as
    /// <see cref="ITextToSpeechClient"/>, and the default microphone (<see cref="Microphone.Create"/>) as
    /// <see cref="IAudioInput"/>, each a singleton unless already registered.
    /// </summary>
    /// <param name="builder">The AvatarKit builder.</param>
    /// <param name="configure">Settings from code; may be null.</param>
    /// <returns>The builder, for chaining.</returns>
    public static AvatarKitBuilder AddDeepgram(this AvatarKitBuilder builder, Action<DeepgramOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddOptions<DeepgramOptions>("Deepgram", configure, static (options, environment) => options.ApiKey ??= environment("DEEPGRAM_API_KEY"), static options => options.Validate());
        var services = builder.Services;
        services.AddHttpClient(HttpClientName);
        services.TryAddSingleton(static sp => new DeepgramSpeechToTextClient(
            sp.GetRequiredService<IOptions<DeepgramOptions>>().Value,
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName),
            sp.GetService<ILogger<DeepgramSpeechToTextClient>>()));
        services.TryAddSingleton(static sp => new DeepgramTextToSpeechClient(
            sp.GetRequiredService<IOptions<DeepgramOptions>>().Value,
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName),
            sp.GetService<ILogger<DeepgramTextToSpeechClient>>()));
        services.TryAddSingleton<ISpeechToTextClient>(static sp => sp.GetRequiredService<DeepgramSpeechToTextClient>());
        services.TryAddSingleton<ITextToSpeechClient>(static sp => sp.GetRequiredService<DeepgramTextToSpeechClient>());
        services.TryAddSingleton(static _ => Microphone.Create());
        return builder;
    }
}
