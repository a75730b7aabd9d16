using AvatarKit.Harness.Doubles;
using AvatarKit.Llm;
using AvatarKit.Testing.Gemini;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AvatarKit.Reliability.Tests;

/// <summary>
/// A real pipeline talking to the Gemini emulator through <c>AddGemini()</c> (HTTP, SSE, retries, as an
/// app registers it), with a simulated avatar; every log line of both is captured.
/// </summary>
internal sealed class GeminiConversation : IAsyncDisposable
{
    private GeminiConversation(GeminiEmulator emulator, ServiceProvider services, HarnessConversation conversation, CapturingLoggerProvider logs)
    {
        Emulator = emulator;
        Services = services;
        Conversation = conversation;
        Logs = logs;
    }

    public GeminiEmulator Emulator { get; }

    public ServiceProvider Services { get; }

    public HarnessConversation Conversation { get; }

    public AvatarPipeline Pipeline => Conversation.Pipeline;

    public CapturingLoggerProvider Logs { get; }

    public static async Task<GeminiConversation> StartAsync(string emulatorKey, string clientKey, Action<GeminiOptions>? configure = null)
    {
        var emulator = await GeminiEmulator.StartAsync(
            new GeminiEmulatorOptions { ApiKey = emulatorKey, TimeToFirstToken = TimeSpan.Zero, TokensPerSecond = 0 },
            TestContext.Current.CancellationToken);
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));
        services.AddAvatarKit().AddGemini(o =>
        {
            o.ApiKey = clientKey;
            o.BaseUrl = emulator.BaseUrl;
            o.Model = "gemini-2.5-flash";
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(10);
            configure?.Invoke(o);
        }).UseLogging();
        var provider = services.BuildServiceProvider(validateScopes: true);
        var conversation = await HarnessConversation.StartAsync(
            provider.GetRequiredService<IChatClient>(),
            new SimulatedAvatarSession(),
            voice: false,
            loggerFactory: provider.GetRequiredService<ILoggerFactory>(),
            cancellationToken: TestContext.Current.CancellationToken);
        return new GeminiConversation(emulator, provider, conversation, logs);
    }

    public async ValueTask DisposeAsync()
    {
        await Conversation.DisposeAsync();
        await Services.DisposeAsync();
        await Emulator.DisposeAsync();
    }
}
