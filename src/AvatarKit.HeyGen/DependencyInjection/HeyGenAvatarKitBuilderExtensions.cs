using AvatarKit.HeyGen;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds HeyGen's avatars to AvatarKit.</summary>
public static class HeyGenAvatarKitBuilderExtensions
{
    /// <summary>The service key of the LiveAvatar <see cref="AvatarKit.IAvatarService"/>.</summary>
    public const string LiveAvatarServiceKey = "liveavatar";

    /// <summary>The service key of the legacy HeyGen Streaming <see cref="AvatarKit.IAvatarService"/>.</summary>
    public const string HeyGenStreamingServiceKey = "heygen-streaming";

    /// <summary>
    /// Registers LiveAvatar as the <see cref="AvatarKit.IAvatarService"/> unless one is registered already (and always keyed <c>liveavatar</c>).
    /// Settings come from <c>AvatarKit:LiveAvatar</c>, then <paramref name="configure"/>, then
    /// <c>LIVEAVATAR_API_KEY</c> / <c>LIVEAVATAR_BASE_URL</c>. FULL mode needs an
    /// <see cref="AvatarKit.IRealtimeRoomConnector"/>; LITE mode an <see cref="ITextToSpeechClient"/>.
    /// </summary>
    /// <param name="builder">The AvatarKit builder.</param>
    /// <param name="configure">Settings from code; may be null.</param>
    /// <returns>The builder.</returns>
    public static AvatarKit.AvatarKitBuilder AddLiveAvatar(this AvatarKit.AvatarKitBuilder builder, Action<LiveAvatarOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddOptions<LiveAvatarOptions>(
            "LiveAvatar",
            configure,
            (options, env) =>
            {
                options.ApiKey ??= env("LIVEAVATAR_API_KEY");
                if (env("LIVEAVATAR_BASE_URL") is { } url && options.BaseUrl == LiveAvatarOptions.DefaultBaseUrl)
                {
                    options.BaseUrl = new Uri(url);
                }
            },
            options => options.Validate());
        HeyGenHttp.AddClient<ILiveAvatarApi, LiveAvatarOptions>(builder.Services, "LiveAvatar", "X-API-KEY", "LIVEAVATAR_API_KEY", HeyGenJsonContext.Default);
        builder.Services.AddKeyedSingleton<AvatarKit.IAvatarService>(LiveAvatarServiceKey, (sp, _) => new LiveAvatarService(
            sp.GetRequiredService<ILiveAvatarApi>(),
            sp.GetRequiredService<IOptions<LiveAvatarOptions>>(),
            sp.GetService<IOptions<AvatarKit.AvatarKitOptions>>(),
            sp.GetService<AvatarKit.IRealtimeRoomConnector>(),
            sp.GetService<ITextToSpeechClient>(),
            sp.GetService<ILoggerFactory>()));
        builder.Services.TryAddSingleton(sp => sp.GetRequiredKeyedService<AvatarKit.IAvatarService>(LiveAvatarServiceKey));
        return builder;
    }

    /// <summary>
    /// Registers the legacy HeyGen Streaming API v1 (keyed <c>heygen-streaming</c>; also the
    /// <see cref="AvatarKit.IAvatarService"/> when LiveAvatar is not registered). Settings come from
    /// <c>AvatarKit:HeyGenStreaming</c>, then <paramref name="configure"/>, then <c>HEYGEN_API_KEY</c> /
    /// <c>HEYGEN_BASE_URL</c>. Needs an <see cref="AvatarKit.IRealtimeRoomConnector"/>, or with
    /// <see cref="HeyGenStreamingOptions.UseRealtimeEndpoint"/> an <see cref="ITextToSpeechClient"/>.
    /// </summary>
    /// <param name="builder">The AvatarKit builder.</param>
    /// <param name="configure">Settings from code; may be null.</param>
    /// <returns>The builder.</returns>
    public static AvatarKit.AvatarKitBuilder AddHeyGenStreaming(this AvatarKit.AvatarKitBuilder builder, Action<HeyGenStreamingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddOptions<HeyGenStreamingOptions>(
            "HeyGenStreaming",
            configure,
            (options, env) =>
            {
                options.ApiKey ??= env("HEYGEN_API_KEY");
                if (env("HEYGEN_BASE_URL") is { } url && options.BaseUrl == HeyGenStreamingOptions.DefaultBaseUrl)
                {
                    options.BaseUrl = new Uri(url);
                }
            },
            options => options.Validate());
        HeyGenHttp.AddClient<IHeyGenStreamingApi, HeyGenStreamingOptions>(builder.Services, "HeyGen", "X-Api-Key", "HEYGEN_API_KEY", HeyGenStreamingJsonContext.Default);
        builder.Services.AddKeyedSingleton<AvatarKit.IAvatarService>(HeyGenStreamingServiceKey, (sp, _) => new HeyGenStreamingService(
            sp.GetRequiredService<IHeyGenStreamingApi>(),
            sp.GetRequiredService<IOptions<HeyGenStreamingOptions>>(),
            sp.GetService<IOptions<AvatarKit.AvatarKitOptions>>(),
            sp.GetService<AvatarKit.IRealtimeRoomConnector>(),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<ITextToSpeechClient>()));
        builder.Services.TryAddSingleton(sp => sp.GetRequiredKeyedService<AvatarKit.IAvatarService>(HeyGenStreamingServiceKey));
        return builder;
    }
}
