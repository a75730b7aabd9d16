using AvatarKit.Testing.Gemini;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace AvatarKit.Llm.Tests.Gemini;

/// <summary>An emulator plus a client registered through <c>AddGemini()</c>, as an app would.</summary>
internal sealed class GeminiFixture : IAsyncDisposable
{
    private GeminiFixture(GeminiEmulator emulator, ServiceProvider services)
    {
        Emulator = emulator;
        Services = services;
    }

    public GeminiEmulator Emulator { get; }

    public ServiceProvider Services { get; }

    public IChatClient Client => Services.GetRequiredService<IChatClient>();

    public GeminiChatClient Gemini => Services.GetRequiredService<GeminiChatClient>();

    public static async Task<GeminiFixture> StartAsync(
        Action<GeminiOptions>? configure = null,
        Action<ChatClientBuilder>? pipeline = null,
        Action<GeminiEmulatorOptions>? emulatorOptions = null)
    {
        var options = new GeminiEmulatorOptions { TimeToFirstToken = TimeSpan.Zero, TokensPerSecond = 0 };
        emulatorOptions?.Invoke(options);
        var emulator = await GeminiEmulator.StartAsync(options, TestContext.Current.CancellationToken);
        var services = new ServiceCollection();
        services.AddLogging();
        var chat = services.AddAvatarKit().AddGemini(o =>
        {
            o.ApiKey = emulator.ApiKey;
            o.BaseUrl = emulator.BaseUrl;
            o.Model = "gemini-2.5-flash";
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(10);
            configure?.Invoke(o);
        });
        pipeline?.Invoke(chat);
        return new GeminiFixture(emulator, services.BuildServiceProvider(validateScopes: true));
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Emulator.DisposeAsync();
    }
}
