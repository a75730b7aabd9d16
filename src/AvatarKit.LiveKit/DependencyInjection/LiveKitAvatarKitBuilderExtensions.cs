using AvatarKit;
using AvatarKit.LiveKit;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the LiveKit room connector.</summary>
public static class LiveKitAvatarKitBuilderExtensions
{
    /// <summary>
    /// Registers <see cref="LiveKitRoomConnector"/> as the <see cref="IRealtimeRoomConnector"/>, with
    /// <see cref="LiveKitOptions"/> bound from <c>AvatarKit:LiveKit</c> and <c>LIVEKIT_URL</c>,
    /// <c>LIVEKIT_API_KEY</c>, <c>LIVEKIT_API_SECRET</c>.
    /// </summary>
    /// <param name="builder">The AvatarKit builder.</param>
    /// <param name="configure">Settings from code; may be null.</param>
    /// <returns>The builder.</returns>
    public static AvatarKitBuilder AddLiveKit(this AvatarKitBuilder builder, Action<LiveKitOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddOptions<LiveKitOptions>("LiveKit", configure, FillFromEnvironment, options => options.Validate());
        builder.Services.TryAddSingleton<LiveKitRoomConnector>();
        builder.Services.TryAddSingleton<IRealtimeRoomConnector>(services => services.GetRequiredService<LiveKitRoomConnector>());
        return builder;
    }

    private static void FillFromEnvironment(LiveKitOptions options, Func<string, string?> environment)
    {
        if (options.Url is null && environment("LIVEKIT_URL") is { } url && Uri.TryCreate(url, UriKind.Absolute, out var parsed))
        {
            options.Url = parsed;
        }

        options.ApiKey ??= environment("LIVEKIT_API_KEY");
        options.ApiSecret ??= environment("LIVEKIT_API_SECRET");
    }
}
