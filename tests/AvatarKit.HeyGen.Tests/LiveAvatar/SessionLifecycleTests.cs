using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AvatarKit.HeyGen.Tests;

/// <summary>No remote session outlives its owner: cancel, throw and dispose in every phase; limits; close-all; reclaim; process exit.</summary>
public sealed class SessionLifecycleTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Cancelling_throwing_and_disposing_in_every_phase_leaks_no_session()
    {
        await using var h = await LiveAvatarHarness.StartAsync(o => o.MaxConcurrentSessions = 10, e => e.MaxConcurrentSessions = 10);

        // Cancelled while the token is being created (the emulator holds the request until the client gives up).
        h.Emulator.Faults.Delay("/v1/sessions/token", Waits.Soon);
        await CancelOnceRequestedAsync(h, h.Service, "/v1/sessions/token");
        h.Emulator.Faults.Clear();
        Assert.Equal(0, h.Emulator.OpenSessionCount);

        // Cancelled while the session is starting.
        h.Emulator.Faults.Delay("/v1/sessions/start", Waits.Soon);
        await CancelOnceRequestedAsync(h, h.Service, "/v1/sessions/start");
        h.Emulator.Faults.Clear();
        await Waits.UntilAsync(() => h.Emulator.OpenSessionCount == 0, "the half-started session is stopped");

        // Cancelled while waiting for the avatar to join.
        await using (var slow = LiveAvatarHarness.CreateServices(h.Rooms, h.Emulator, o => o.MaxConcurrentSessions = 10, out _))
        {
            var rooms = new HangingRoomConnector();
            var service = new LiveAvatarService(slow.GetRequiredService<ILiveAvatarApi>(), slow.GetRequiredService<Microsoft.Extensions.Options.IOptions<LiveAvatarOptions>>(), connector: rooms);
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var joining = service.StartSessionAsync(cancellationToken: cancel.Token);
            await rooms.Entered.Task.WaitAsync(Waits.Soon, Ct);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => joining);
            Assert.Equal(0, h.Emulator.OpenSessionCount);

            // The room cannot be joined at all.
            var broken = new LiveAvatarService(slow.GetRequiredService<ILiveAvatarApi>(), slow.GetRequiredService<Microsoft.Extensions.Options.IOptions<LiveAvatarOptions>>(), connector: new BrokenRoomConnector());
            await Assert.ThrowsAsync<RoomConnectionException>(() => broken.StartSessionAsync(cancellationToken: Ct));
            Assert.Equal(0, h.Emulator.OpenSessionCount);
        }

        // Disposed while speaking.
        var speaking = await h.Service.StartSessionAsync(cancellationToken: Ct);
        var started = Waits.Next<AvatarSpeechEventArgs>(e => speaking.SpeakingStarted += e);
        await speaking.SpeakAsync("A sentence that is still being said when the session goes away.", Ct);
        await started;
        await speaking.DisposeAsync();
        Assert.Equal(AvatarSessionState.Closed, speaking.State);
        Assert.Equal(0, h.Emulator.OpenSessionCount);

        // An exception inside the using block.
        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var session = await h.Service.StartSessionAsync(cancellationToken: Ct);
            await session.SpeakAsync("Hello.", Ct);
            throw new InvalidOperationException("The app failed.");
        });
        Assert.Equal(0, h.Emulator.OpenSessionCount);

        // Disposing twice, and using a closed session.
        var twice = await h.Service.StartSessionAsync(cancellationToken: Ct);
        await twice.DisposeAsync();
        await twice.DisposeAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(() => twice.SpeakAsync("Too late.", Ct));
        Assert.Equal(0, h.Emulator.OpenSessionCount);

        // Forgotten sessions are stopped when the container is disposed.
        var forgotten = LiveAvatarHarness.CreateServices(h.Rooms, h.Emulator, o => o.MaxConcurrentSessions = 10, out _);
        await forgotten.GetRequiredService<IAvatarService>().StartSessionAsync(cancellationToken: Ct);
        await forgotten.GetRequiredService<IAvatarService>().StartSessionAsync(cancellationToken: Ct);
        Assert.Equal(2, h.Emulator.OpenSessionCount);
        await forgotten.DisposeAsync();
        Assert.Equal(0, h.Emulator.OpenSessionCount);
        Assert.Empty(h.Rooms.RoomNames);
    }

    [Fact]
    public async Task Lite_sessions_leak_nothing_when_disposed_mid_speech()
    {
        await using var h = await LiveAvatarHarness.StartAsync(o => o.Mode = LiveAvatarMode.Lite);
        var session = await h.Service.StartSessionAsync(cancellationToken: Ct);
        var started = Waits.Next<AvatarSpeechEventArgs>(e => session.SpeakingStarted += e);
        await session.SpeakAsync("Some words that are being streamed while we close.", Ct);
        await started;

        await session.DisposeAsync();

        Assert.Equal(0, h.Emulator.OpenSessionCount);
        Assert.Equal(AvatarSessionState.Closed, session.State);
    }

    [Fact]
    public async Task Starting_beyond_the_limit_closes_the_oldest_session()
    {
        await using var h = await LiveAvatarHarness.StartAsync();
        var first = await h.Service.StartSessionAsync(cancellationToken: Ct);

        await using var second = await h.Service.StartSessionAsync(cancellationToken: Ct);

        Assert.Equal(AvatarSessionState.Closed, first.State);
        Assert.Equal([second.SessionId], h.Emulator.OpenSessionIds);
    }

    [Fact]
    public async Task Close_all_stops_every_active_session_of_the_account()
    {
        await using var h = await LiveAvatarHarness.StartAsync(o => o.MaxConcurrentSessions = 2);
        await using var other = LiveAvatarHarness.CreateServices(h.Rooms, h.Emulator, null, out _);
        var mine = await h.Service.StartSessionAsync(cancellationToken: Ct);
        await other.GetRequiredService<IAvatarService>().StartSessionAsync(cancellationToken: Ct);
        Assert.Equal(2, h.Emulator.OpenSessionCount);

        var stopped = await h.Service.CloseAllSessionsAsync(Ct);

        Assert.Equal(2, stopped);
        Assert.Equal(0, h.Emulator.OpenSessionCount);
        Assert.Equal(AvatarSessionState.Closed, mine.State);
    }

    [Fact]
    public async Task A_crashed_processs_session_is_reclaimed_on_the_next_start_when_asked()
    {
        await using var h = await LiveAvatarHarness.StartAsync(e => { }, e => e.MaxConcurrentSessions = 1);
        var crashed = LiveAvatarHarness.CreateServices(h.Rooms, h.Emulator, null, out _);
        var stale = await crashed.GetRequiredService<IAvatarService>().StartSessionAsync(cancellationToken: Ct);

        // Without reclaim the account's limit refuses the new session, naming the orphan and how to reclaim it.
        var refused = await Assert.ThrowsAsync<AvatarSessionLimitException>(() => h.Service.StartSessionAsync(cancellationToken: Ct));
        Assert.Equal([stale.SessionId], refused.OtherActiveSessionIds);
        Assert.Contains(stale.SessionId, refused.Message, StringComparison.Ordinal);
        Assert.Contains("AvatarKit:LiveAvatar:ReclaimStaleSessions=true", refused.Message, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, refused.StatusCode);

        await using var next = LiveAvatarHarness.CreateServices(h.Rooms, h.Emulator, o => o.ReclaimStaleSessions = true, out _);
        await using var session = await next.GetRequiredService<IAvatarService>().StartSessionAsync(cancellationToken: Ct);

        Assert.Equal([session.SessionId], h.Emulator.OpenSessionIds);
        Assert.NotEqual(stale.SessionId, session.SessionId);
    }

    [Fact]
    public async Task Process_exit_stops_the_sessions_of_services_that_asked_for_it()
    {
        await using var h = await LiveAvatarHarness.StartAsync();
        await using var services = LiveAvatarHarness.CreateServices(h.Rooms, h.Emulator, o => o.StopSessionsOnProcessExit = true, out _);
        var session = await services.GetRequiredService<IAvatarService>().StartSessionAsync(cancellationToken: Ct);

        AvatarSessionManager.StopEverything();

        Assert.Equal(0, h.Emulator.OpenSessionCount);
        Assert.Equal(AvatarSessionState.Closed, session.State);
    }

    [Fact]
    public async Task Options_come_from_configuration_and_the_shared_defaults()
    {
        await using var h = await LiveAvatarHarness.StartAsync();
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["LIVEAVATAR_API_KEY"] = h.Emulator.ApiKey,
                ["LIVEAVATAR_BASE_URL"] = h.Emulator.BaseUrl.ToString(),
                ["DEFAULT_AVATAR_ID"] = LiveAvatarOptions.SandboxAvatarId,
                ["DEFAULT_QUALITY"] = "low",
                ["AvatarKit:LiveAvatar:IsSandbox"] = "true",
            })
            .Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddSingleton<IRealtimeRoomConnector>(h.Rooms);
        services.AddAvatarKit().AddLiveAvatar(o => o.StopSessionsOnProcessExit = false);
        await using var provider = services.BuildServiceProvider();
        var service = (LiveAvatarService)provider.GetRequiredService<IAvatarService>();

        var request = service.BuildTokenRequest(null);

        Assert.Equal(LiveAvatarOptions.SandboxAvatarId, request.AvatarId);
        Assert.Equal("low", request.VideoSettings!.Quality);
        Assert.True(request.IsSandbox);
        await using var session = await service.StartSessionAsync(cancellationToken: Ct);
        Assert.Equal(60, ((ILiveAvatarSession)session).MaxDuration!.Value.TotalSeconds);
        Assert.Equal(0, ((ILiveAvatarSession)session).EstimatedCredits);
        Assert.Same(service, provider.GetRequiredKeyedService<IAvatarService>(HeyGenAvatarKitBuilderExtensions.LiveAvatarServiceKey));
    }

    [Fact]
    public void A_missing_key_fails_validation_naming_the_variable()
    {
        var services = new ServiceCollection();
        services.AddAvatarKit().AddLiveAvatar(o => o.ApiKey = null);
        using var provider = services.BuildServiceProvider();
        Assert.SkipWhen(Environment.GetEnvironmentVariable("LIVEAVATAR_API_KEY") is { Length: > 0 }, "LIVEAVATAR_API_KEY is set in this environment.");

        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => provider.GetRequiredService<IAvatarService>());

        Assert.Contains("LIVEAVATAR_API_KEY", error.Message, StringComparison.Ordinal);
    }

    // Cancels a start once the emulator has received the request to path, so the cancellation lands in that phase
    // whatever the machine's load (a fixed delay could land in an earlier phase, or after this one).
    private static async Task CancelOnceRequestedAsync(LiveAvatarHarness h, IAvatarService service, string path)
    {
        var before = h.Emulator.Requests.Count(r => r.Path == path);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var starting = service.StartSessionAsync(cancellationToken: cancel.Token);
        await Waits.UntilAsync(() => h.Emulator.Requests.Count(r => r.Path == path) > before || starting.IsCompleted, $"the emulator received {path}");
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => starting);
    }

    /// <summary>A room that is never joined: the avatar does not arrive until the start is cancelled.</summary>
    private sealed class HangingRoomConnector : IRealtimeRoomConnector
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<IRealtimeRoom> ConnectAsync(Uri url, string token, CancellationToken cancellationToken = default)
        {
            Entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("Unreachable: only cancellation ends the wait.");
        }
    }

    private sealed class BrokenRoomConnector : IRealtimeRoomConnector
    {
        public Task<IRealtimeRoom> ConnectAsync(Uri url, string token, CancellationToken cancellationToken = default) =>
            throw new RoomConnectionException("The room server refused the token.");
    }
}
