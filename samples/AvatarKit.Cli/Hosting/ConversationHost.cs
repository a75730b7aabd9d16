using AvatarKit.Testing.LiveAvatar;
using AvatarKit.Testing.Sandbox;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AvatarKit.Cli.Hosting;

/// <summary>How a command wants the services composed.</summary>
/// <param name="Voice">Whether voice input (microphone + speech-to-text) is wanted.</param>
/// <param name="Record">Whether the session is recorded.</param>
/// <param name="AudioFile">A WAV file to use as the microphone, played in real time.</param>
internal sealed record HostRequest(bool Voice, bool Record, string? AudioFile = null);

/// <summary>Which implementation serves one capability.</summary>
/// <param name="Capability">Avatar, chat, speech-to-text, recording.</param>
/// <param name="Provider">What serves it, in words.</param>
/// <param name="IsSandbox">Whether it is the local sandbox.</param>
internal sealed record ProviderChoice(string Capability, string Provider, bool IsSandbox);

/// <summary>
/// Composes AvatarKit through DI the way a hosted app would: each service uses the real provider
/// when its API key is set, and the sandbox (local emulators, scripted chat) otherwise; any mix is
/// allowed. Every base URL can be overridden with <c>LIVEAVATAR_BASE_URL</c>, <c>DEEPGRAM_BASE_URL</c>,
/// <c>GEMINI_BASE_URL</c>.
/// </summary>
internal sealed class ConversationHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    private ConversationHost(ServiceProvider services, AvatarKitSandbox? sandbox, IReadOnlyList<ProviderChoice> providers)
    {
        _services = services;
        Sandbox = sandbox;
        Providers = providers;
    }

    public IServiceProvider Services => _services;

    public AvatarKitSandbox? Sandbox { get; }

    public IReadOnlyList<ProviderChoice> Providers { get; }

    public bool UsesSandbox => Providers.Any(p => p.IsSandbox);

    public IAvatarService AvatarService => _services.GetRequiredService<IAvatarService>();

    public IAvatarPipelineFactory Pipelines => _services.GetRequiredService<IAvatarPipelineFactory>();

    public static async Task<ConversationHost> CreateAsync(CliEnvironment environment, HostRequest request, CancellationToken cancellationToken)
    {
        var liveAvatarKey = CliEnvironment.Get("LIVEAVATAR_API_KEY");
        var geminiKey = CliEnvironment.Get("GEMINI_API_KEY");
        var deepgramKey = CliEnvironment.Get("DEEPGRAM_API_KEY");
        var needSandbox = liveAvatarKey is null || (request.Voice && deepgramKey is null);
        var sandbox = needSandbox
            ? await AvatarKitSandbox.StartAsync(new SandboxOptions { Gemini = false, Deepgram = request.Voice && deepgramKey is null }, cancellationToken)
            : null;
        var providers = new List<ProviderChoice>();
        try
        {
            var services = new ServiceCollection();
            services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddEnvironmentVariables().Build());
            services.AddLogging(logging => logging.AddProvider(new LoggerFactoryProvider(environment.LoggerFactory)));
            var kit = services.AddAvatarKit(o => o.OutputDirectory = environment.OutputDirectory);

            if (liveAvatarKey is null)
            {
                var endpoint = sandbox!.Endpoints["liveavatar"];
                kit.AddLiveAvatar(o =>
                {
                    o.BaseUrl = endpoint.BaseUrl;
                    o.ApiKey = endpoint.ApiKey;
                    o.AvatarId ??= CliEnvironment.Get("DEFAULT_AVATAR_ID") ?? LiveAvatarEmulatorOptions.PublicAvatarId;
                });
                services.AddSingleton(sandbox.Rooms.Connector);
                providers.Add(new ProviderChoice("avatar", $"sandbox avatar (LiveAvatar emulator, {sandbox.VoiceDescription})", true));
            }
            else
            {
                kit.AddLiveAvatar(o => o.BaseUrl = CliEnvironment.GetUrl("LIVEAVATAR_BASE_URL") ?? o.BaseUrl);
                kit.AddLiveKit();
                providers.Add(new ProviderChoice("avatar", "HeyGen LiveAvatar over LiveKit", false));
            }

            if (geminiKey is null)
            {
                services.AddSingleton<IChatClient>(AvatarKitSandbox.CreateChatClient());
                providers.Add(new ProviderChoice("chat", "sandbox scripted chat (set GEMINI_API_KEY for Gemini)", true));
            }
            else
            {
                kit.AddGemini(o => o.BaseUrl = CliEnvironment.GetUrl("GEMINI_BASE_URL") ?? o.BaseUrl);
                providers.Add(new ProviderChoice("chat", "Google Gemini", false));
            }

            if (request.Record)
            {
                kit.AddRecording(o => o.OutputDirectory = environment.OutputDirectory);
                providers.Add(new ProviderChoice("recording", $"FFmpeg → {environment.OutputDirectory}", false));
            }

            VoiceComposition.Add(kit, request, deepgramKey, sandbox, providers);
            kit.AddPipeline(o =>
            {
                o.VoiceInput = request.Voice;
                o.SystemPrompt = CliEnvironment.Get("AVATARKIT_SYSTEM_PROMPT") ?? o.SystemPrompt;
            });

            var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = false });
            return new ConversationHost(provider, sandbox, providers);
        }
        catch
        {
            if (sandbox is not null)
            {
                await sandbox.DisposeAsync();
            }

            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // The avatar service stops the sessions it opened when the container is disposed.
        await _services.DisposeAsync();
        if (Sandbox is not null)
        {
            await Sandbox.DisposeAsync();
        }
    }

    /// <summary>Hands the CLI's logger factory (the rolling file) to the container.</summary>
    private sealed class LoggerFactoryProvider(ILoggerFactory factory) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => factory.CreateLogger(categoryName);

        public void Dispose()
        {
        }
    }
}
