using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AvatarKit;

/// <summary>Registers the FFmpeg session recorder on an <see cref="AvatarKitBuilder"/>.</summary>
public static class RecordingAvatarKitBuilderExtensions
{
    /// <summary>
    /// Registers <see cref="FfmpegSessionRecorder"/> as the <see cref="ISessionRecorder"/>, with
    /// <see cref="RecordingOptions"/> bound from <c>AvatarKit:Recording</c> and validated at start. The
    /// output directory falls back to <see cref="AvatarKitOptions.OutputDirectory"/> (<c>OUTPUT_DIR</c>, default <c>outputs</c>).
    /// </summary>
    /// <param name="builder">The AvatarKit builder.</param>
    /// <param name="configure">Settings from code; may be null.</param>
    /// <returns>The builder, for chaining.</returns>
    public static AvatarKitBuilder AddRecording(this AvatarKitBuilder builder, Action<RecordingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddOptions<RecordingOptions>("Recording", configure, fillFromEnvironment: null, validate: o => o.Validate())
            .PostConfigure<IOptions<AvatarKitOptions>>((options, shared) =>
            {
                if (string.IsNullOrWhiteSpace(options.OutputDirectory))
                {
                    options.OutputDirectory = shared.Value.OutputDirectory ?? "outputs";
                }
            });
        builder.Services.TryAddSingleton<ISessionRecorder>(services => new FfmpegSessionRecorder(
            services.GetRequiredService<IOptions<RecordingOptions>>().Value,
            services.GetService<ILogger<FfmpegSessionRecorder>>()));
        return builder;
    }
}
