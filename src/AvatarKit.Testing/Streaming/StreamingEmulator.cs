using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using AvatarKit.Testing.LiveAvatar;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AvatarKit.Testing.Streaming;

/// <summary>
/// A local HeyGen Streaming API v1 (<c>/v1/streaming.*</c>, LiveKit transport) on a loopback port:
/// envelopes, error codes (<c>10013</c> avatar not found, <c>400112</c> unauthorized, <c>10004</c>
/// concurrent limit), and an <see cref="EmulatedAvatar"/> per started session that emits
/// <c>avatar_start_talking</c> / <c>avatar_stop_talking</c> on the room's data channel. Each session's
/// <c>realtime_endpoint</c> is a WebSocket that speaks the LITE protocol (<c>agent.speak</c> with PCM16 24 kHz,
/// <c>agent.speak_end</c>, <c>agent.interrupt</c>, <c>session.keep_alive</c>), served by the same code as the
/// LiveAvatar emulator's LITE socket. Counts open sessions; latency and failures are injectable through <see cref="Faults"/>.
/// </summary>
public sealed partial class StreamingEmulator : IAsyncDisposable
{
    private static readonly string[] Avatars = [StreamingEmulatorOptions.AvatarId, "Wayne_20240711", "Anna_public_3_20240108"];

    private readonly StreamingEmulatorOptions _options;
    private readonly IEmulatorRoomHost _rooms;
    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _tokens = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentQueue<RecordedLiteMessage> _realtimeMessages = new();
    private readonly LiteSocketEmulation _realtime;
    private EmulatorServer? _server;

    private StreamingEmulator(IEmulatorRoomHost rooms, StreamingEmulatorOptions options)
    {
        _rooms = rooms;
        _options = options;
        _realtime = new LiteSocketEmulation(_realtimeMessages);
    }

    /// <summary>Gets the base URL clients use instead of <c>https://api.heygen.com/</c>.</summary>
    public Uri BaseUrl => _server?.BaseUrl ?? throw new InvalidOperationException("The emulator is not started.");

    /// <summary>Gets the API key the emulator accepts.</summary>
    public string ApiKey => _options.ApiKey;

    /// <summary>Gets the fault rules applied before every endpoint.</summary>
    public FaultInjector Faults { get; } = new();

    /// <summary>Gets the requests received so far, in order.</summary>
    public IReadOnlyCollection<RecordedRequest> Requests => _requests;

    /// <summary>Gets the messages received on realtime-endpoint WebSockets, in order (audio summarized by its size).</summary>
    public IReadOnlyCollection<RecordedLiteMessage> RealtimeMessages => _realtimeMessages;

    /// <summary>Gets or sets how many <c>agent.speak</c> messages a realtime socket accepts before the emulator drops it without a close handshake (null: never).</summary>
    public int? DropRealtimeSocketAfterSpeakMessages
    {
        get => _realtime.DropAfterSpeakMessages;
        set => _realtime.DropAfterSpeakMessages = value;
    }

    /// <summary>Gets the number of sessions created and not stopped (they count against the limit).</summary>
    public int OpenSessionCount => _sessions.Values.Count(s => s.Status != "closed");

    /// <summary>Starts the emulator.</summary>
    /// <param name="rooms">Where sessions' rooms live.</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <param name="cancellationToken">Cancels starting.</param>
    /// <returns>The running emulator.</returns>
    public static async Task<StreamingEmulator> StartAsync(IEmulatorRoomHost rooms, StreamingEmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rooms);
        var emulator = new StreamingEmulator(rooms, options ?? new StreamingEmulatorOptions());
        emulator._server = await EmulatorServer.StartAsync(
            emulator._options.Port,
            new EmulatorRequestHooks(
                emulator.Faults,
                emulator._requests,
                status => Error(status, DefaultMessage(status)).ToJsonString(),
                r => r.Headers.ContainsKey("X-Api-Key") ? "api-key" : r.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? "bearer" : null),
            emulator.Map,
            cancellationToken).ConfigureAwait(false);
        return emulator;
    }

    /// <summary>Gets the emulated avatar of a started session.</summary>
    /// <param name="sessionId">The session.</param>
    /// <returns>The avatar, or null.</returns>
    public EmulatedAvatar? GetAvatar(string sessionId) => _sessions.TryGetValue(sessionId, out var s) ? s.Avatar : null;

    /// <summary>Sends a raw text frame on a session's realtime WebSocket (to test malformed or unknown events).</summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="text">The frame.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when queued.</returns>
    public Task SendRawRealtimeAsync(string sessionId, string text, CancellationToken cancellationToken = default) =>
        LiteSocketEmulation.SendRawAsync(_sessions.GetValueOrDefault(sessionId), text, cancellationToken);

    /// <summary>Ends a session from the server side (as its duration limit does): the realtime socket reports it and closes.</summary>
    /// <param name="sessionId">The session.</param>
    /// <returns>A task that completes when the session is closed.</returns>
    public Task EndSessionAsync(string sessionId) =>
        _sessions.TryGetValue(sessionId, out var session) ? CloseAsync(session, "MAX_DURATION_REACHED") : Task.CompletedTask;

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var session in _sessions.Values)
        {
            await CloseAsync(session, "SERVER_ERROR").ConfigureAwait(false);
        }

        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static JsonObject Error(int code, string message) => new() { ["code"] = code, ["message"] = message };

    private static string DefaultMessage(int status) => status switch
    {
        401 => "Unauthorized",
        429 => "Too many requests",
        >= 500 => "Internal server error",
        _ => "Bad request",
    };

    private static IResult Ok(JsonNode? data) => EmulatorJson.Json(new JsonObject { ["code"] = 100, ["data"] = data, ["message"] = "success" });

    private static IResult Fail(int status, int code, string message) => EmulatorJson.Json(Error(code, message), status);

    private bool Authorized(HttpRequest request)
    {
        if (string.Equals(request.Headers["X-Api-Key"].ToString(), _options.ApiKey, StringComparison.Ordinal))
        {
            return true;
        }

        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && _tokens.ContainsKey(header["Bearer ".Length..].Trim());
    }

    private void Map(WebApplication app)
    {
        app.MapPost("/v1/streaming.create_token", (HttpRequest r) =>
        {
            if (!string.Equals(r.Headers["X-Api-Key"].ToString(), _options.ApiKey, StringComparison.Ordinal))
            {
                return Fail(401, 400112, "Unauthorized");
            }

            var token = Convert.ToBase64String(Encoding.UTF8.GetBytes(EmulatorJson.CreateToken("streaming", "trial")));
            _tokens[token] = 0;

            // Observed shape: { "error": null, "data": { "token": ... } }.
            return EmulatorJson.Json(new JsonObject { ["error"] = null, ["data"] = new JsonObject { ["token"] = token } });
        });
        app.MapPost("/v1/streaming.new", NewAsync);
        app.MapPost("/v1/streaming.start", (HttpRequest r) => WithSessionAsync(r, StartAsync));
        app.MapPost("/v1/streaming.task", (HttpRequest r) => WithSessionAsync(r, TaskAsync));
        app.MapPost("/v1/streaming.interrupt", (HttpRequest r) => WithSessionAsync(r, (s, _) =>
        {
            s.Avatar?.Interrupt();
            return Task.FromResult(Ok(null));
        }));
        // The listening pose (the official SDK's startListening/stopListening); the emulated avatar has none.
        app.MapPost("/v1/streaming.start_listening", (HttpRequest r) => WithSessionAsync(r, (_, _) => Task.FromResult(Ok(null))));
        app.MapPost("/v1/streaming.stop_listening", (HttpRequest r) => WithSessionAsync(r, (_, _) => Task.FromResult(Ok(null))));
        app.MapPost("/v1/streaming.keep_alive", (HttpRequest r) => WithSessionAsync(r, (s, _) =>
        {
            s.Touch();
            return Task.FromResult(EmulatorJson.Json(new JsonObject { ["code"] = 100, ["message"] = "success" }));
        }));
        app.MapPost("/v1/streaming.stop", (HttpRequest r) => WithSessionAsync(r, async (s, _) =>
        {
            await CloseAsync(s, "USER_CLOSED").ConfigureAwait(false);
            return Ok(null);
        }, allowClosed: true));
        app.MapGet("/v1/streaming.list", (HttpRequest r) => !Authorized(r) ? Fail(401, 400112, "Unauthorized") : Ok(new JsonObject
        {
            ["sessions"] = new JsonArray([.. _sessions.Values.Where(s => s.Status != "closed").Select(s => (JsonNode)new JsonObject
            {
                ["session_id"] = s.Id,
                ["status"] = s.Status,
                ["created_at"] = s.CreatedAt.ToUnixTimeSeconds(),
            })]),
        }));
        app.Map("/v2-alpha/interactive-avatar/session/{id}", RealtimeSocketAsync);
        app.Map("/v1/ws/streaming.chat", ChatSocketAsync);
        app.MapGet("/v1/streaming/avatar.list", (HttpRequest r) => !Authorized(r) ? Fail(401, 400112, "Unauthorized") : Ok(new JsonArray([.. Avatars.Select(a => (JsonNode)new JsonObject
        {
            ["avatar_id"] = a,
            ["created_at"] = 1_704_067_200,
            ["is_public"] = true,
            ["status"] = "ACTIVE",
        })])));
    }

    private async Task<IResult> NewAsync(HttpRequest request)
    {
        if (!Authorized(request))
        {
            return Fail(401, 400112, "Unauthorized");
        }

        if (await EmulatorJson.ReadObjectAsync(request).ConfigureAwait(false) is not { } body)
        {
            return Fail(400, 400175, "Invalid parameter: body is not JSON");
        }

        var avatar = body.GetString("avatar_id") ?? body.GetString("avatar_name");
        if (avatar is null || !Avatars.Contains(avatar, StringComparer.Ordinal))
        {
            return Fail(400, 10013, "avatar not found");
        }

        if (body.GetString("version") != "v2")
        {
            return Fail(400, 400599, "Only version v2 (LiveKit) sessions are supported");
        }

        if (OpenSessionCount >= _options.MaxConcurrentSessions)
        {
            return Fail(400, 10004, "Concurrent limit reached");
        }

        var id = Guid.NewGuid().ToString();
        var session = new Session(id) { IdleTimeout = TimeSpan.FromSeconds(body["activity_idle_timeout"] is JsonValue v && v.TryGetValue<int>(out var s) ? s : 120) };
        _sessions[id] = session;
        var client = _rooms.CreateGrant(id, "client");
        var agent = _rooms.CreateGrant(id, "agent");
        return Ok(new JsonObject
        {
            ["session_id"] = id,
            ["url"] = client.Url.ToString(),
            ["access_token"] = client.Token,
            ["livekit_agent_token"] = agent.Token,
            ["realtime_endpoint"] = new UriBuilder(BaseUrl) { Scheme = "ws", Path = $"/v2-alpha/interactive-avatar/session/{id}", Query = $"session_token={session.WebSocketToken}" }.Uri.ToString(),
            ["is_paid"] = true,
            ["session_duration_limit"] = (int)_options.SessionDurationLimit.TotalSeconds,
            ["sdp"] = null,
            ["ice_servers"] = null,
            ["ice_servers2"] = null,
        });
    }

    private async Task<IResult> WithSessionAsync(HttpRequest request, Func<Session, JsonObject, Task<IResult>> handle, bool allowClosed = false)
    {
        if (!Authorized(request))
        {
            return Fail(401, 400112, "Unauthorized");
        }

        if (await EmulatorJson.ReadObjectAsync(request).ConfigureAwait(false) is not { } body || body.GetString("session_id") is not { } id)
        {
            return Fail(400, 40001, "Missing required parameter: session_id");
        }

        if (!_sessions.TryGetValue(id, out var session))
        {
            return Fail(400, 10005, "Session not found");
        }

        if (session.Status == "closed" && !allowClosed)
        {
            return Fail(400, 10006, "Session is closed");
        }

        session.Touch();
        return await handle(session, body).ConfigureAwait(false);
    }

    private async Task<IResult> StartAsync(Session session, JsonObject body)
    {
        if (session.Status != "new")
        {
            return Fail(400, 400175, $"Session is {session.Status}");
        }

        session.Status = "connecting";
        var avatar = await EmulatedAvatar.JoinAsync(_rooms, session.Id, _options.Avatar, _options.TextToSpeech).ConfigureAwait(false);
        session.Avatar = avatar;
        avatar.SpeakingStarted += (_, e) => Publish(session, new JsonObject { ["type"] = "avatar_start_talking", ["task_id"] = e.UtteranceId });
        avatar.SpeakingEnded += (_, e) =>
        {
            Publish(session, new JsonObject { ["type"] = "avatar_stop_talking", ["task_id"] = e.UtteranceId });
            session.Finished(e.UtteranceId);
        };
        session.Status = "connected";
        _ = Task.Run(() => WatchAsync(session));
        return Ok(null);
    }

    private async Task<IResult> TaskAsync(Session session, JsonObject body)
    {
        if (session.Status != "connected")
        {
            return Fail(400, 10007, "Session is not connected; call streaming.start first");
        }

        var text = body.GetString("text");
        if (string.IsNullOrEmpty(text))
        {
            return Fail(400, 40001, "Missing required parameter: text");
        }

        var taskType = body.GetString("task_type") ?? "talk";
        if (taskType is not ("talk" or "repeat"))
        {
            return Fail(400, 400175, "Invalid parameter: task_type");
        }

        var (taskId, duration, done) = await SpeakAsync(session, text, taskType).ConfigureAwait(false);
        if (body.GetString("task_mode") == "sync")
        {
            await done.WaitAsync(duration + TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }

        return Ok(new JsonObject { ["duration_ms"] = Math.Round(duration.TotalMilliseconds, 1), ["task_id"] = taskId });
    }

    // A task: "repeat" speaks the text, "talk" speaks the (stub) LLM's answer to it.
    private async Task<(string TaskId, TimeSpan Duration, Task Done)> SpeakAsync(Session session, string text, string taskType)
    {
        var spoken = taskType == "repeat" ? text : $"You said: {text}";
        var taskId = Guid.NewGuid().ToString("N");
        var done = session.Track(taskId);
        Publish(session, new JsonObject { ["type"] = "avatar_talking_message", ["task_id"] = taskId, ["message"] = spoken });
        Publish(session, new JsonObject { ["type"] = "avatar_end_message", ["task_id"] = taskId });
        await Task.Delay(_options.SpeechLatency).ConfigureAwait(false);
        var duration = await session.Avatar!.SayAsync(taskId, spoken).ConfigureAwait(false);
        return (taskId, duration, done);
    }

    private static void Publish(Session session, JsonObject message)
    {
        if (session.Avatar is { } avatar)
        {
            // No topic: the SDK reads every data packet.
            _ = avatar.Room.PublishDataAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), new RoomDataOptions());
        }
    }

    private async Task WatchAsync(Session session)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (await timer.WaitForNextTickAsync().ConfigureAwait(false) && session.Status != "closed")
        {
            if (DateTimeOffset.UtcNow - session.CreatedAt >= _options.SessionDurationLimit || session.Idle >= session.IdleTimeout)
            {
                await CloseAsync(session, session.Idle >= session.IdleTimeout ? "IDLE_TIMEOUT" : "MAX_DURATION_REACHED").ConfigureAwait(false);
            }
        }
    }

    private static async Task CloseAsync(Session session, string reason)
    {
        if (!session.TryClose(reason))
        {
            return;
        }

        if (session.Socket is not null)
        {
            LiteSocketEmulation.PostClosed(session);
        }

        session.Outbox.Writer.TryComplete();
        if (session.Pump is { } pump)
        {
            await pump.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await session.Lifetime.CancelAsync().ConfigureAwait(false);
        if (session.Avatar is { } avatar)
        {
            await avatar.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task RealtimeSocketAsync(HttpContext context, string id)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        if (!_sessions.TryGetValue(id, out var session) || context.Request.Query["session_token"] != session.WebSocketToken)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        // The avatar's speech is reported on the socket once a client uses it (task-mode clients never do).
        if (session.Avatar is not null && Interlocked.Exchange(ref session.RealtimeAttached, 1) == 0)
        {
            LiteSocketEmulation.Attach(session);
        }

        await _realtime.RunAsync(context, session).ConfigureAwait(false);
    }

    private sealed class Session(string id) : ILiteSocketSession
    {
#pragma warning disable SA1401, CA1051 // Set once with Interlocked.
        public int RealtimeAttached;
#pragma warning restore SA1401, CA1051

        private readonly ConcurrentDictionary<string, TaskCompletionSource> _tasks = new(StringComparer.Ordinal);
        private long _lastActivity = Environment.TickCount64;
        private int _closed;

        public string Id { get; } = id;

        public DateTimeOffset CreatedAt { get; } = DateTimeOffset.UtcNow;

        public string Status { get; set; } = "new";

        public TimeSpan IdleTimeout { get; init; }

        public EmulatedAvatar? Avatar { get; set; }

        public string WebSocketToken { get; } = Guid.NewGuid().ToString("N");

        public WebSocket? Socket { get; set; }

        public Task? Pump { get; set; }

        public Channel<JsonObject> Outbox { get; } = Channel.CreateUnbounded<JsonObject>(new UnboundedChannelOptions { SingleReader = true });

        public CancellationTokenSource Lifetime { get; } = new();

        public bool IsActive => Status == "connected";

        public bool HasEnded => Status == "closed";

        public string? EndReason { get; private set; }

        public int SpeakMessages { get; set; }

        public void Post(JsonObject message) => Outbox.Writer.TryWrite(message);

        public TimeSpan Idle => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastActivity));

        public void Touch() => Interlocked.Exchange(ref _lastActivity, Environment.TickCount64);

        public Task Track(string taskId) => _tasks.GetOrAdd(taskId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        public void Finished(string taskId)
        {
            if (_tasks.TryRemove(taskId, out var done))
            {
                done.TrySetResult();
            }
        }

        public bool TryClose(string reason)
        {
            if (Interlocked.Exchange(ref _closed, 1) != 0)
            {
                return false;
            }

            EndReason = reason;
            Status = "closed";
            return true;
        }
    }
}
