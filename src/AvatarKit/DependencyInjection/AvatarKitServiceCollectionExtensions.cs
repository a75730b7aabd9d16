using AvatarKit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers AvatarKit in a service collection.</summary>
public static class AvatarKitServiceCollectionExtensions
{
    /// <summary>
    /// Registers AvatarKit's shared settings (<see cref="AvatarKitOptions"/>) and returns the builder
    /// that provider packages extend: <c>services.AddAvatarKit().AddDeepgram().AddGemini().AddLiveAvatar()</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Shared settings from code; may be null.</param>
    /// <returns>The builder.</returns>
    public static AvatarKitBuilder AddAvatarKit(this IServiceCollection services, Action<AvatarKitOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var existing = services.FirstOrDefault(d => d.ServiceType == typeof(AvatarKitBuilder))?.ImplementationInstance as AvatarKitBuilder;
        var builder = existing ?? new AvatarKitBuilder(services);
        if (existing is null)
        {
            services.TryAddSingleton(builder);
            builder.AddOptions<AvatarKitOptions>(string.Empty, configure: null, FillFromEnvironment, Validate);
        }

        if (configure is not null)
        {
            services.Configure(configure);
        }

        return builder;
    }

    private static void FillFromEnvironment(AvatarKitOptions options, Func<string, string?> environment)
    {
        options.DefaultAvatarId ??= environment("DEFAULT_AVATAR_ID");
        options.OutputDirectory ??= environment("OUTPUT_DIR") ?? "outputs";
        if (options.DefaultQuality is null && environment("DEFAULT_QUALITY") is { } quality)
        {
            options.DefaultQuality = Enum.TryParse<AvatarQuality>(quality, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed)
                ? parsed
                : throw new OptionsValidationException(
                    nameof(AvatarKitOptions),
                    typeof(AvatarKitOptions),
                    [$"DEFAULT_QUALITY is '{quality}'; use low, medium or high."]);
        }
    }

    private static IEnumerable<string> Validate(AvatarKitOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.OutputDirectory))
        {
            yield return "OutputDirectory is empty; set AvatarKit:OutputDirectory or OUTPUT_DIR to a writable directory.";
        }
        else if (options.OutputDirectory.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            yield return $"OutputDirectory '{options.OutputDirectory}' is not a valid path; set AvatarKit:OutputDirectory or OUTPUT_DIR.";
        }
    }
}
