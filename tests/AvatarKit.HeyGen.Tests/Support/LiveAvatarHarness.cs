using AvatarKit.Testing;
using AvatarKit.Testing.LiveAvatar;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace AvatarKit.HeyGen.Tests;

/// <summary>A LiveAvatar emulator on a loopback port, an in-process room server, and a service provider wired to both.</summary>
internal sealed class LiveAvatarHarness : IAsyncDisposable
{
    private LiveAvatarHarness(InProcessRoomServer rooms, LiveAvatarEmulator emulator, ServiceProvider services, TestTextToSpeechClient textToSpeech)
    {
        Rooms = rooms;
        Emulator = emulator;
        Services = services;
        TextToSpeech = textToSpeech;
    }

    public InProcessRoomServer Rooms { get; }

    public LiveAvatarEmulator Emulator { get; }

    public ServiceProvider Services { get; }

    public TestTextToSpeechClient TextToSpeech { get; }

    public IAvatarService Service => Services.GetRequiredService<IAvatarService>();

    internal ILiveAvatarApi Api => Services.GetRequiredService<ILiveAvatarApi>();

    public static async Task<LiveAvatarHarness> StartAsync(Action<LiveAvatarOptions>? configure = null, Action<LiveAvatarEmulatorOptions>? emulator = null)
    {
        var rooms = new InProcessRoomServer();
        var emulatorOptions = new LiveAvatarEmulatorOptions { SpeechLatency = TimeSpan.FromMilliseconds(50) };
        emulator?.Invoke(emulatorOptions);
        var server = await LiveAvatarEmulator.StartAsync(new InProcessRoomHost(rooms), emulatorOptions, TestContext.Current.CancellationToken);
        var services = CreateServices(rooms, server, configure, out var tts);
        return new LiveAvatarHarness(rooms, server, services, tts);
    }

    public static ServiceProvider CreateServices(InProcessRoomServer rooms, LiveAvatarEmulator emulator, Action<LiveAvatarOptions>? configure, out TestTextToSpeechClient textToSpeech)
    {
        textToSpeech = new TestTextToSpeechClient();
        var collection = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IRealtimeRoomConnector>(rooms)
            .AddSingleton<ITextToSpeechClient>(textToSpeech);
        collection.AddAvatarKit().AddLiveAvatar(o =>
        {
            o.ApiKey = emulator.ApiKey;
            o.BaseUrl = emulator.BaseUrl;
            o.AvatarId = LiveAvatarEmulatorOptions.PublicAvatarId;
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
            o.StopSessionsOnProcessExit = false;
            configure?.Invoke(o);
        });
        return collection.BuildServiceProvider();
    }

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        await Emulator.DisposeAsync();
    }
}
