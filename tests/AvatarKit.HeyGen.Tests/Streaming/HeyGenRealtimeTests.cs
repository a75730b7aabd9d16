using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using AvatarKit.Testing;
using AvatarKit.Testing.Streaming;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace AvatarKit.HeyGen.Tests;

/// <summary>
/// The Streaming API's realtime endpoint (LITE-style, our own voice) against the emulator's WebSocket, which
/// shares the LiveAvatar emulator's LITE socket handling, as the client shares LiveAvatar LITE's audio stream.
/// </summary>
public sealed class HeyGenRealtimeTests : IAsyncLifetime
{
    private readonly InProcessRoomServer _rooms = new();
    private readonly TestTextToSpeechClient _voice = new();
    private StreamingEmulator _emulator = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        _emulator = await StreamingEmulator.StartAsync(new InProcessRoomHost(_rooms), new StreamingEmulatorOptions { SpeechLatency = TimeSpan.FromMilliseconds(50) }, Ct);

    public async ValueTask DisposeAsync() => await _emulator.DisposeAsync();

    [Fact]
    public async Task Speak_streams_24kHz_audio_in_the_configured_chunks_over_the_realtime_endpoint_not_as_tasks()
    {
        await using var services = Services(o =>
        {
            o.LiteFirstChunk = TimeSpan.FromMilliseconds(400);
            o.LiteChunk = TimeSpan.FromMilliseconds(800);
        });
        await using var session = await services.GetRequiredService<IAvatarService>().StartSessionAsync(cancellationToken: Ct);
        var started = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingStarted += h);
        var ended = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingEnded += h);

        // 49 characters at 40 ms each: 1.96 s of 16 kHz speech, 94,080 bytes at 24 kHz.
        await session.SpeakAsync("Fifty characters of text to say, give or take ok.", Ct);
        var start = await started;
        var end = await ended;

        var messages = _emulator.RealtimeMessages.Where(m => m.EventId == start.UtteranceId).ToList();
        Assert.Equal(["agent.speak", "agent.speak", "agent.speak", "agent.speak_end"], messages.Select(m => m.Type));
        Assert.Equal([19_200, 38_400, 36_480], messages.Where(m => m.Type == "agent.speak").Select(m => m.AudioBytes));
        Assert.Equal("Fifty characters of text to say, give or take ok.", end.Text);
        Assert.False(end.Interrupted);
        Assert.DoesNotContain(_emulator.Requests, r => r.Path == "/v1/streaming.task");
        Assert.Single(_voice.Calls);
    }

    [Fact]
    public async Task Interrupt_stops_sending_and_clears_the_avatar_within_one_chunk()
    {
        _voice.PerCharacter = TimeSpan.FromMilliseconds(100);
        await using var services = Services(o => o.LiteLeadTime = TimeSpan.FromMilliseconds(200));
        await using var session = await services.GetRequiredService<IAvatarService>().StartSessionAsync(cancellationToken: Ct);
        var started = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingStarted += h);
        var ended = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingEnded += h);

        // 80 characters: 8 s of audio, sent at most 200 ms ahead of playback.
        await session.SpeakAsync("A long answer that goes on and on, and it would take about eight seconds to say.", Ct);
        var start = await started;
        await session.InterruptAsync(Ct);
        var end = await ended;

        Assert.True(end.Interrupted);
        Assert.Equal(start.UtteranceId, end.UtteranceId);
        var messages = _emulator.RealtimeMessages.ToList();
        var interrupt = messages.FindIndex(m => m.Type == "agent.interrupt");
        Assert.True(interrupt > 0);
        await Task.Delay(300, Ct);
        Assert.DoesNotContain(_emulator.RealtimeMessages.Skip(interrupt), m => m.Type == "agent.speak");
        Assert.True(messages.Count(m => m.Type == "agent.speak") < 9, "All the audio was sent before it was played.");
        Assert.False(_emulator.GetAvatar(session.SessionId)!.IsSpeaking);
        Assert.DoesNotContain(_emulator.Requests, r => r.Path == "/v1/streaming.interrupt");
    }

    [Fact]
    public async Task A_dropped_socket_mid_speech_is_reported_and_the_next_speak_reconnects()
    {
        await using var services = Services(o => o.LiteLeadTime = TimeSpan.FromMilliseconds(100));
        await using var session = await services.GetRequiredService<IAvatarService>().StartSessionAsync(cancellationToken: Ct);
        var started = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingStarted += h);
        var cut = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingEnded += h);
        _emulator.DropRealtimeSocketAfterSpeakMessages = 1;

        await session.SpeakAsync("A sentence long enough to need a second chunk of audio, which never arrives.", Ct);
        await started;

        Assert.True((await cut).Interrupted);
        var streaming = (HeyGenStreamingSession)session;
        await Waits.UntilAsync(() => streaming.SocketLost, "the session reports the dropped socket");
        Assert.NotEqual(AvatarSessionState.Closed, session.State);

        _emulator.DropRealtimeSocketAfterSpeakMessages = null;
        var ended = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingEnded += h);
        await session.SpeakAsync("Back again.", Ct);

        var again = await ended;
        Assert.False(again.Interrupted);
        Assert.Equal("Back again.", again.Text);
        Assert.False(streaming.SocketLost);
        Assert.Equal(1, _emulator.OpenSessionCount);
    }

    [Fact]
    public async Task Malformed_and_unknown_server_messages_are_ignored_and_a_server_end_closes_the_session()
    {
        await using var services = Services();
        await using var session = await services.GetRequiredService<IAvatarService>().StartSessionAsync(cancellationToken: Ct);
        foreach (var raw in new[] { "{not json", "[1,2,3]", "{\"type\":42}", "{\"no_type\":true}", "{\"type\":\"agent.made_up\"}", "{\"type\":\"agent.speak_started\"}", "{\"type\":\"error\",\"error\":\"a string\"}" })
        {
            await _emulator.SendRawRealtimeAsync(session.SessionId, raw, Ct);
        }

        var ended = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingEnded += h);
        await session.SpeakAsync("Still here.", Ct);
        Assert.Equal("Still here.", (await ended).Text);

        await _emulator.EndSessionAsync(session.SessionId);

        await Waits.UntilAsync(() => session.State == AvatarSessionState.Closed, "the session closes when the server ends it");
        Assert.Equal("MAX_DURATION_REACHED", ((HeyGenStreamingSession)session).EndReason);
        await Assert.ThrowsAsync<InvalidOperationException>(() => session.SpeakAsync("Too late.", Ct));
        Assert.Equal(0, _emulator.OpenSessionCount);
    }

    [Fact]
    public async Task The_endpoint_answers_malformed_client_messages_with_error_events_and_refuses_a_bad_token()
    {
        await using var services = Services();
        var api = services.GetRequiredService<IHeyGenStreamingApi>();
        var created = (await api.NewSessionAsync(new NewSessionRequest { AvatarId = StreamingEmulatorOptions.AvatarId }, Ct)).Data!;
        await api.StartSessionAsync(new StreamingSessionRequest(created.SessionId), Ct);
        var endpoint = new Uri(created.RealtimeEndpoint!);

        using var stranger = new ClientWebSocket();
        var refused = await Assert.ThrowsAsync<WebSocketException>(() => stranger.ConnectAsync(new UriBuilder(endpoint) { Query = "session_token=wrong" }.Uri, Ct));
        Assert.Contains("401", refused.Message, StringComparison.Ordinal);

        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(endpoint, Ct);
        Assert.Equal("connected", (await ReceiveAsync(socket)).GetProperty("state").GetString());
        foreach (var (raw, expected) in new[]
        {
            ("not json", "Message is not a JSON object"),
            ("""{"type":"agent.speak","audio":"AAA="}""", "event_id is required"),
            ("""{"type":"agent.speak","event_id":"e1","audio":"***"}""", "audio is not valid base64"),
            ("""{"type":"agent.speak","event_id":"e1","audio":"AAAA"}""", "audio must be PCM16: an even number of bytes"),
            ("""{"type":"agent.dance","event_id":"e2"}""", "Unknown message type 'agent.dance'"),
        })
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(raw), WebSocketMessageType.Text, endOfMessage: true, Ct);
            var error = await ReceiveAsync(socket);
            Assert.Equal("error", error.GetProperty("type").GetString());
            Assert.Equal(expected, error.GetProperty("error").GetProperty("message").GetString());
        }

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, Ct);
        await api.StopSessionAsync(new StreamingSessionRequest(created.SessionId), Ct);
        Assert.Equal(0, _emulator.OpenSessionCount);
    }

    [Fact]
    public async Task The_realtime_mode_needs_a_voice()
    {
        var collection = new ServiceCollection().AddLogging();
        collection.AddAvatarKit().AddHeyGenStreaming(o =>
        {
            o.ApiKey = _emulator.ApiKey;
            o.BaseUrl = _emulator.BaseUrl;
            o.AvatarId = StreamingEmulatorOptions.AvatarId;
            o.UseRealtimeEndpoint = true;
            o.StopSessionsOnProcessExit = false;
        });
        await using var services = collection.BuildServiceProvider();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => services.GetRequiredService<IAvatarService>().StartSessionAsync(cancellationToken: Ct));

        Assert.Contains("ITextToSpeechClient", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, _emulator.OpenSessionCount);
    }

    [Fact]
    public async Task Talk_and_the_realtime_endpoint_are_refused_together()
    {
        await using var services = Services(o => o.Talk = true);

        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => services.GetRequiredService<IAvatarService>());

        Assert.Contains("Talk and UseRealtimeEndpoint exclude each other", error.Message, StringComparison.Ordinal);
    }

    private static async Task<JsonElement> ReceiveAsync(ClientWebSocket socket)
    {
        var buffer = new byte[64 * 1024];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(Waits.Soon);
        var result = await socket.ReceiveAsync(buffer, timeout.Token);
        return JsonDocument.Parse(buffer.AsMemory(0, result.Count)).RootElement.Clone();
    }

    private ServiceProvider Services(Action<HeyGenStreamingOptions>? configure = null)
    {
        var services = new ServiceCollection().AddLogging().AddSingleton<IRealtimeRoomConnector>(_rooms).AddSingleton<ITextToSpeechClient>(_voice);
        services.AddAvatarKit().AddHeyGenStreaming(o =>
        {
            o.ApiKey = _emulator.ApiKey;
            o.BaseUrl = _emulator.BaseUrl;
            o.AvatarId = StreamingEmulatorOptions.AvatarId;
            o.UseRealtimeEndpoint = true;
            o.RetryBaseDelay = TimeSpan.FromMilliseconds(20);
            o.StopSessionsOnProcessExit = false;
            configure?.Invoke(o);
        });
        return services.BuildServiceProvider();
    }
}
