using AvatarKit;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the conversation pipeline on an <see cref="AvatarKitBuilder"/>.</summary>
public static class AvatarPipelineServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="AvatarPipelineOptions"/> (section <c>AvatarKit:Pipeline</c>, and
    /// <c>AVATARKIT_SYSTEM_PROMPT</c>) and an <see cref="IAvatarPipelineFactory"/> that builds
    /// one <see cref="AvatarPipeline"/> per conversation from the registered <see cref="IChatClient"/>,
    /// <see cref="IAvatarService"/> and, when registered, <see cref="ISpeechToTextClient"/>,
    /// <see cref="IAudioInput"/> and <see cref="ISessionRecorder"/>. (The pipeline is not registered
    /// itself: the caller owns and disposes each conversation.)
    /// </summary>
    /// <param name="builder">The AvatarKit builder.</param>
    /// <param name="configure">Settings from code; may be null.</param>
    /// <returns>The builder.</returns>
    public static AvatarKitBuilder AddPipeline(this AvatarKitBuilder builder, Action<AvatarPipelineOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddOptions<AvatarPipelineOptions>(
            "Pipeline",
            configure,
            static (options, environment) =>
            {
                if (environment("AVATARKIT_SYSTEM_PROMPT") is { } prompt)
                {
                    options.SystemPrompt = prompt;
                }
            },
            static options => options.Validate());
        builder.Services.TryAddSingleton<IAvatarPipelineFactory, AvatarPipelineFactory>();
        return builder;
    }

    private sealed class AvatarPipelineFactory(IServiceProvider services, IOptions<AvatarPipelineOptions> options) : IAvatarPipelineFactory
    {
        public AvatarPipeline Create(Action<AvatarPipelineBuilder>? configure = null)
        {
            var builder = AvatarPipeline.CreateBuilder().UseOptions(options.Value);
            if (services.GetService<IChatClient>() is { } chat)
            {
                builder.UseChatClient(chat);
            }

            if (services.GetService<IAvatarService>() is { } avatar)
            {
                builder.UseAvatar(avatar);
            }

            if (services.GetService<ISpeechToTextClient>() is { } speechToText)
            {
                builder.UseSpeechToText(speechToText);
            }

            if (services.GetService<IAudioInput>() is { } input)
            {
                builder.UseAudioInput(input);
            }

            if (services.GetService<ISessionRecorder>() is { } recorder)
            {
                builder.UseRecording(recorder);
            }

            if (services.GetService<ILoggerFactory>() is { } loggerFactory)
            {
                builder.UseLoggerFactory(loggerFactory);
            }

            if (services.GetService<TimeProvider>() is { } time)
            {
                builder.UseTimeProvider(time);
            }

            configure?.Invoke(builder);
            return builder.Build();
        }
    }
}
