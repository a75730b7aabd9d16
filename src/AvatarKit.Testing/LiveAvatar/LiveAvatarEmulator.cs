using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AvatarKit.Testing.LiveAvatar;

/// <summary>
/// A local LiveAvatar (api.liveavatar.com) on a loopback port: the REST API with its envelopes,
/// validation and errors, the LITE WebSocket, and for every started session an
/// <see cref="EmulatedAvatar"/> in a room of the given <see cref="IEmulatorRoomHost"/> that answers
/// FULL-mode commands on the <c>agent-control</c> topic. Counts open sessions so tests can prove
/// that none leak; latency and failures are injectable per endpoint through <see cref="Faults"/>.
/// </summary>
public sealed partial class LiveAvatarEmulator : IAsyncDisposable
{
    /// <summary>The data topic FULL-mode commands arrive on.</summary>
    public const string ControlTopic = "agent-control";

    /// <summary>The data topic FULL-mode server events are published on.</summary>
    public const string ResponseTopic = "agent-response";

    /// <summary>The identity of a FULL session's agent participant is this prefix and the session id (as the web SDK expects).</summary>
    public const string AgentIdentityPrefix = "liveavatar-agent-";

    private readonly LiveAvatarEmulatorOptions _options;
    private readonly IEmulatorRoomHost _rooms;
    private readonly ConcurrentDictionary<string, EmulatedLiveAvatarSession> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private readonly ConcurrentQueue<RecordedLiteMessage> _liteMessages = new();
    private readonly LiteSocketEmulation _lite;
    private EmulatorServer? _server;

    private LiveAvatarEmulator(IEmulatorRoomHost rooms, LiveAvatarEmulatorOptions options)
    {
        _rooms = rooms;
        _options = options;
        _lite = new LiteSocketEmulation(_liteMessages);
    }

    /// <summary>Gets the base URL clients use instead of <c>https://api.liveavatar.com/</c>.</summary>
    public Uri BaseUrl => _server?.BaseUrl ?? throw new InvalidOperationException("The emulator is not started.");

    /// <summary>Gets the API key the emulator accepts.</summary>
    public string ApiKey => _options.ApiKey;

    /// <summary>Gets the fault rules applied before every endpoint.</summary>
    public FaultInjector Faults { get; } = new();

    /// <summary>Gets the requests received so far, in order.</summary>
    public IReadOnlyCollection<RecordedRequest> Requests => _requests;

    /// <summary>Gets the messages received on LITE WebSockets, in order (audio summarized by its size).</summary>
    public IReadOnlyCollection<RecordedLiteMessage> LiteMessages => _liteMessages;

    /// <summary>Gets the number of started sessions that were not stopped yet.</summary>
    public int OpenSessionCount => _sessions.Values.Count(s => s.IsActive);

    /// <summary>Gets the ids of the open sessions.</summary>
    public IReadOnlyList<string> OpenSessionIds => [.. _sessions.Values.Where(s => s.IsActive).Select(s => s.Id)];

    /// <summary>Gets or sets how many <c>agent.speak</c> messages a LITE socket accepts before the emulator drops it without a close handshake (null: never).</summary>
    public int? DropLiteSocketAfterSpeakMessages
    {
        get => _lite.DropAfterSpeakMessages;
        set => _lite.DropAfterSpeakMessages = value;
    }

    /// <summary>Gets or sets a value indicating whether the LITE socket ignores <c>agent.speak_end</c> (a stuck server).</summary>
    public bool IgnoreSpeakEnd
    {
        get => _lite.IgnoreSpeakEnd;
        set => _lite.IgnoreSpeakEnd = value;
    }

    /// <summary>Starts the emulator.</summary>
    /// <param name="rooms">Where sessions' rooms live (in-process or a LiveKit-compatible server).</param>
    /// <param name="options">Settings; defaults when null.</param>
    /// <param name="cancellationToken">Cancels starting.</param>
    /// <returns>The running emulator.</returns>
    public static async Task<LiveAvatarEmulator> StartAsync(IEmulatorRoomHost rooms, LiveAvatarEmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rooms);
        var emulator = new LiveAvatarEmulator(rooms, options ?? new LiveAvatarEmulatorOptions());
        emulator._server = await EmulatorServer.StartAsync(
            emulator._options.Port,
            new EmulatorRequestHooks(emulator.Faults, emulator._requests, status => Envelope(status, null, DefaultMessage(status)).ToJsonString(), AuthScheme),
            emulator.Map,
            cancellationToken).ConfigureAwait(false);
        return emulator;
    }

    /// <summary>Gets the emulated avatar of an open session, to inspect what it renders.</summary>
    /// <param name="sessionId">The session.</param>
    /// <returns>The avatar, or null when the session is not open.</returns>
    public EmulatedAvatar? GetAvatar(string sessionId) => _sessions.TryGetValue(sessionId, out var s) && s.IsActive ? s.Avatar : null;

    /// <summary>Gets the credits the account's sessions consumed (FULL 2/min, LITE 1/min, sandbox free).</summary>
    /// <returns>The credits.</returns>
    public double GetCreditsConsumed() => _sessions.Values.Sum(s => s.CreditsConsumed(2, 1));

    /// <summary>Ends a session from the server side, as when it reaches its maximum duration or runs out of credits.</summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="reason">A <c>SessionEndReason</c> value.</param>
    /// <returns>A task that completes when the session is ended.</returns>
    public Task EndSessionAsync(string sessionId, string reason = "MAX_DURATION_REACHED") =>
        _sessions.TryGetValue(sessionId, out var session) ? EndAsync(session, reason) : Task.CompletedTask;

    /// <summary>Sends a raw text frame on a LITE session's WebSocket (to test malformed or unknown events).</summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="text">The frame.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when sent.</returns>
    public Task SendRawLiteAsync(string sessionId, string text, CancellationToken cancellationToken = default) =>
        LiteSocketEmulation.SendRawAsync(_sessions.GetValueOrDefault(sessionId), text, cancellationToken);

    /// <summary>Publishes raw bytes on a FULL session's <c>agent-response</c> topic (to test malformed or unknown events).</summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="payload">The bytes.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when published.</returns>
    public Task PublishRawFullAsync(string sessionId, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default) =>
        GetAvatar(sessionId)?.Room.PublishDataAsync(payload, new RoomDataOptions { Topic = ResponseTopic }, cancellationToken)
            ?? throw new InvalidOperationException($"Session {sessionId} is not open.");

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var session in _sessions.Values)
        {
            await EndAsync(session, "SERVER_ERROR").ConfigureAwait(false);
        }

        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static string? AuthScheme(HttpRequest request) =>
        request.Headers.ContainsKey("X-API-KEY") ? "api-key"
        : request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? "bearer"
        : null;

    private static JsonObject Envelope(int code, JsonNode? data, string message) =>
        new() { ["code"] = code, ["data"] = data, ["message"] = message };

    private static IResult Ok(JsonNode? data, int status = StatusCodes.Status200OK) =>
        EmulatorJson.Json(Envelope(1000, data, "Success"), status);

    private static IResult Error(int status, string message) => EmulatorJson.Json(Envelope(status, null, message), status);

    private static IResult Validation(string field, string message, string type, JsonNode? input = null) =>
        EmulatorJson.Json(
            new JsonObject
            {
                ["detail"] = new JsonArray(new JsonObject
                {
                    ["loc"] = new JsonArray("body", field),
                    ["msg"] = message,
                    ["type"] = type,
                    ["input"] = input?.DeepClone(),
                }),
            },
            StatusCodes.Status422UnprocessableEntity);

    private static string DefaultMessage(int status) => status switch
    {
        401 => "Invalid API key",
        404 => "Not found",
        429 => "Rate limit exceeded",
        >= 500 => "Internal server error",
        _ => "Bad request",
    };

    private bool HasApiKey(HttpRequest request) =>
        string.Equals(request.Headers["X-API-KEY"].ToString(), _options.ApiKey, StringComparison.Ordinal);

    private EmulatedLiveAvatarSession? FromBearer(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var token = header["Bearer ".Length..].Trim();
        return _sessions.Values.FirstOrDefault(s => s.Token == token);
    }

    private void Map(WebApplication app)
    {
        app.MapPost("/v1/sessions/token", CreateTokenAsync);
        app.MapPost("/v1/sessions/start", StartSessionAsync);
        app.MapPost("/v1/sessions/stop", (HttpRequest r) => StopAsync(r, keepAlive: false));
        app.MapPost("/v1/sessions/keep-alive", (HttpRequest r) => StopAsync(r, keepAlive: true));
        app.MapDelete("/v1/sessions", async (HttpRequest r) =>
        {
            if (FromBearer(r) is not { } session)
            {
                return Error(401, "Invalid session token");
            }

            await EndAsync(session, "USER_CLOSED").ConfigureAwait(false);
            return Ok(null);
        });
        app.MapGet("/v1/sessions", ListSessions);
        app.MapGet("/v1/sessions/{id}", (HttpRequest r, string id) =>
            !HasApiKey(r) ? Error(401, "Invalid API key")
            : _sessions.TryGetValue(id, out var s) ? Ok(SessionEntry(s, historic: s.EndedAt is not null))
            : Error(404, "Session not found"));
        app.MapGet("/v1/avatars/public", (HttpRequest r) => Page(r, LiveAvatarCatalog.PublicAvatars(), requireKey: false));
        app.MapGet("/v1/avatars", (HttpRequest r) => Page(r, LiveAvatarCatalog.UserAvatars(), requireKey: true));
        app.MapGet("/v1/voices", (HttpRequest r) => Page(r, LiveAvatarCatalog.Voices(r.Query["voice_type"].ToString() == "private"), requireKey: true));
        app.MapGet("/v1/contexts", (HttpRequest r) => Page(r, LiveAvatarCatalog.Contexts(), requireKey: true));
        app.Map("/v1/ws/lite/{id}", (HttpContext context, string id) => LiteSocketAsync(context, id));
    }

    private IResult Page(HttpRequest request, JsonArray items, bool requireKey)
    {
        if (requireKey && !HasApiKey(request))
        {
            return Error(401, "Invalid API key");
        }

        var page = int.TryParse(request.Query["page"], CultureInfo.InvariantCulture, out var p) ? p : 1;
        var size = int.TryParse(request.Query["page_size"], CultureInfo.InvariantCulture, out var ps) ? ps : 20;
        if (page < 1)
        {
            return Validation("page", "Input should be greater than or equal to 1", "greater_than_equal");
        }

        if (size is < 1 or > 100)
        {
            return Validation("page_size", "Input should be between 1 and 100", "less_than_equal");
        }

        var results = new JsonArray([.. items.Skip((page - 1) * size).Take(size).Select(i => i!.DeepClone())]);
        var path = request.Path.Value;
        var next = page * size < items.Count ? $"{path}?page={page + 1}&page_size={size}" : null;
        var previous = page > 1 ? $"{path}?page={page - 1}&page_size={size}" : null;
        return Ok(new JsonObject { ["count"] = items.Count, ["next"] = next, ["previous"] = previous, ["results"] = results });
    }
}
