using System.Net;
using AvatarKit.Testing;
using AvatarKit.Testing.Streaming;
using Microsoft.Extensions.DependencyInjection;

namespace AvatarKit.HeyGen.Tests;

/// <summary>The legacy Streaming API v1 client against its emulator, over real HTTP and the in-process room.</summary>
public sealed class HeyGenStreamingTests : IAsyncLifetime
{
    private readonly InProcessRoomServer _rooms = new();
    private StreamingEmulator _emulator = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        _emulator = await StreamingEmulator.StartAsync(new InProcessRoomHost(_rooms), new StreamingEmulatorOptions { SpeechLatency = TimeSpan.FromMilliseconds(50), MaxConcurrentSessions = 2 }, Ct);

    public async ValueTask DisposeAsync() => await _emulator.DisposeAsync();

    [Fact]
    public async Task Every_endpoint_round_trips_with_the_documented_bodies()
    {
        await using var services = Services();
        var api = services.GetRequiredService<IHeyGenStreamingApi>();
        var service = (HeyGenStreamingService)services.GetRequiredService<IAvatarService>();

        var token = await api.CreateTokenAsync(new EmptyRequest(), Ct);
        LiveAvatarApiTests.AssertJson("{}", _emulator.Requests.Last().Body);
        Assert.False(string.IsNullOrEmpty(token.Data!.Token));

        var created = (await api.NewSessionAsync(service.BuildNewRequest(new AvatarSessionOptions { Quality = AvatarQuality.Medium, VoiceId = "voice-1", Language = "en" }), Ct)).Data!;
        LiveAvatarApiTests.AssertJson(
            """{ "avatar_id": "Shawn_Therapist_public", "quality": "medium", "voice": { "voice_id": "voice-1" }, "language": "en", "version": "v2" }""",
            _emulator.Requests.Last().Body);
        Assert.Equal("api-key", _emulator.Requests.Last().AuthScheme);
        Assert.NotNull(created.Url);
        Assert.NotNull(created.AccessToken);
        Assert.NotNull(created.LivekitAgentToken);
        Assert.NotNull(created.RealtimeEndpoint);
        Assert.Equal(600, created.SessionDurationLimit);

        await api.StartSessionAsync(new StreamingSessionRequest(created.SessionId), Ct);
        LiveAvatarApiTests.AssertJson($$"""{ "session_id": "{{created.SessionId}}" }""", _emulator.Requests.Last().Body);

        var task = (await api.SendTaskAsync(new TaskRequest(created.SessionId, "Hello.", "repeat", "sync"), Ct)).Data!;
        LiveAvatarApiTests.AssertJson($$"""{ "session_id": "{{created.SessionId}}", "text": "Hello.", "task_type": "repeat", "task_mode": "sync" }""", _emulator.Requests.Last().Body);
        Assert.True(task.DurationMs > 0);
        Assert.NotNull(task.TaskId);

        await api.InterruptAsync(new StreamingSessionRequest(created.SessionId), Ct);
        await api.KeepAliveAsync(new StreamingSessionRequest(created.SessionId), Ct);
        var listed = (await api.ListSessionsAsync(Ct)).Data!.Sessions!;
        Assert.Equal(created.SessionId, Assert.Single(listed).SessionId);
        var avatars = await service.ListAvatarsAsync(Ct);
        Assert.Contains(avatars, a => a.Id == StreamingEmulatorOptions.AvatarId && a.IsPublic);

        await api.StopSessionAsync(new StreamingSessionRequest(created.SessionId), Ct);
        LiveAvatarApiTests.AssertJson($$"""{ "session_id": "{{created.SessionId}}" }""", _emulator.Requests.Last().Body);
        Assert.Equal(0, _emulator.OpenSessionCount);
    }

    [Fact]
    public async Task Speak_is_a_repeat_task_and_the_data_channel_reports_started_then_ended()
    {
        await using var services = Services();
        await using var session = await services.GetRequiredService<IAvatarService>().StartSessionAsync(cancellationToken: Ct);
        var started = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingStarted += h);
        var ended = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingEnded += h);

        await session.SpeakAsync("Good morning.", Ct);

        var start = await started;
        var end = await ended;
        Assert.Equal(start.UtteranceId, end.UtteranceId);
        Assert.Equal("Good morning.", end.Text);
        Assert.False(end.Interrupted);
        Assert.Contains("\"task_type\":\"repeat\"", _emulator.Requests.Last(r => r.Path == "/v1/streaming.task").Body, StringComparison.Ordinal);
        Assert.Equal("heygen", session.AvatarIdentity);
    }

    [Fact]
    public async Task Interrupt_ends_the_current_task_as_interrupted()
    {
        await using var services = Services();
        await using var session = await services.GetRequiredService<IAvatarService>().StartSessionAsync(cancellationToken: Ct);
        var started = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingStarted += h);
        var ended = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingEnded += h);

        await session.SpeakAsync("A long story that the avatar will not be allowed to finish telling today.", Ct);
        await started;
        await session.InterruptAsync(Ct);

        Assert.True((await ended).Interrupted);
    }

    [Fact]
    public async Task Errors_are_the_providers_codes()
    {
        await using var bad = Services(o => o.ApiKey = "nope");
        var unauthorized = await Assert.ThrowsAsync<AvatarApiException>(() => bad.GetRequiredService<IAvatarService>().StartSessionAsync(cancellationToken: Ct));
        Assert.Equal((HttpStatusCode.Unauthorized, "400112"), (unauthorized.StatusCode, unauthorized.ProviderCode));

        await using var services = Services(o => o.MaxConcurrentSessions = 5);
        var service = services.GetRequiredService<IAvatarService>();
        var unknown = await Assert.ThrowsAsync<AvatarApiException>(() => service.StartSessionAsync(new AvatarSessionOptions { AvatarId = "Nobody" }, Ct));
        Assert.Equal(("10013", "avatar not found"), (unknown.ProviderCode, unknown.ProviderMessage));

        await using var first = await service.StartSessionAsync(cancellationToken: Ct);
        await using var second = await service.StartSessionAsync(cancellationToken: Ct);
        var limit = await Assert.ThrowsAsync<AvatarSessionLimitException>(() => service.StartSessionAsync(cancellationToken: Ct));
        Assert.Equal("10004", limit.ProviderCode);
        Assert.Empty(limit.OtherActiveSessionIds);
        Assert.Equal(2, _emulator.OpenSessionCount);

        // Another process (here: another service) is told whose sessions fill the account and how to reclaim them.
        await using var otherProcess = Services();
        var named = await Assert.ThrowsAsync<AvatarSessionLimitException>(() => otherProcess.GetRequiredService<IAvatarService>().StartSessionAsync(cancellationToken: Ct));
        Assert.Equal(new[] { first.SessionId, second.SessionId }.Order(StringComparer.Ordinal), named.OtherActiveSessionIds.Order(StringComparer.Ordinal));
        Assert.Contains(first.SessionId, named.Message, StringComparison.Ordinal);
        Assert.Contains("AvatarKit:HeyGenStreaming:ReclaimStaleSessions=true", named.Message, StringComparison.Ordinal);
        Assert.Equal("10004", named.ProviderCode);
    }

    [Fact]
    public async Task A_failed_start_and_disposal_leave_no_session_open()
    {
        await using var services = Services(o => o.MaxConcurrentSessions = 5);
        var service = services.GetRequiredService<IAvatarService>();

        _emulator.Faults.Fail("/v1/streaming.start", 500);
        await Assert.ThrowsAsync<AvatarApiException>(() => service.StartSessionAsync(cancellationToken: Ct));
        Assert.Equal(1, _emulator.Requests.Count(r => r.Path == "/v1/streaming.start"));
        Assert.Equal(0, _emulator.OpenSessionCount);

        _emulator.Faults.Fail("/v1/streaming.new", 429, retryAfter: TimeSpan.FromSeconds(1));
        _emulator.Faults.Fail("/v1/streaming.stop", 502, times: 2);
        var session = await service.StartSessionAsync(cancellationToken: Ct);
        await session.SpeakAsync("Bye.", Ct);
        await session.DisposeAsync();
        Assert.Equal(0, _emulator.OpenSessionCount);

        var other = await service.StartSessionAsync(cancellationToken: Ct);
        Assert.Equal(1, await service.CloseAllSessionsAsync(Ct));
        Assert.Equal(AvatarSessionState.Closed, other.State);
        Assert.Equal(0, _emulator.OpenSessionCount);
    }

    private ServiceProvider Services(Action<HeyGenStreamingOptions>? configure = null)
    {
        var services = new ServiceCollection().AddLogging().AddSingleton<IRealtimeRoomConnector>(_rooms);
        services.AddAvatarKit().AddHeyGenStreaming(o =>
        {
            o.ApiKey = _emulator.ApiKey;
            o.BaseUrl = _emulator.BaseUrl;
            o.AvatarId = StreamingEmulatorOptions.AvatarId;
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
            o.StopSessionsOnProcessExit = false;
            configure?.Invoke(o);
        });
        return services.BuildServiceProvider();
    }
}
