using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace AvatarKit.Testing.LiveAvatar;

/// <summary>A session whose avatar is driven by LITE commands over a WebSocket (LiveAvatar LITE, the Streaming API's realtime endpoint).</summary>
internal interface ILiteSocketSession
{
    string Id { get; }

    EmulatedAvatar? Avatar { get; }

    /// <summary>Gets or sets the connected socket (one at a time).</summary>
    WebSocket? Socket { get; set; }

    /// <summary>Gets or sets the task sending <see cref="Outbox"/> on the socket.</summary>
    Task? Pump { get; set; }

    /// <summary>Gets the server events waiting to be sent, in order.</summary>
    Channel<JsonObject> Outbox { get; }

    /// <summary>Gets the session's lifetime, cancelled when it ends.</summary>
    CancellationTokenSource Lifetime { get; }

    bool IsActive { get; }

    bool HasEnded { get; }

    string? EndReason { get; }

    int SpeakMessages { get; set; }

    void Touch();

    void Post(JsonObject message);
}

/// <summary>
/// The server side of the LITE WebSocket protocol (specs: liveavatar.md §5.2 and §7.5): <c>session.state_updated</c>
/// on accept, audio appended to the emulated avatar with acks, commit on <c>agent.speak_end</c>, interrupt,
/// listening poses, keep-alive, validation errors as <c>error</c> events, 1 MB frame limit, and the
/// <c>closing</c>/<c>closed</c> states when the session ends. Shared by the LiveAvatar and Streaming emulators.
/// </summary>
/// <param name="received">Where received messages are recorded (audio summarized by its size).</param>
internal sealed class LiteSocketEmulation(ConcurrentQueue<RecordedLiteMessage> received)
{
    private const int MaxWebSocketMessage = 1024 * 1024;

    // Per session, the handler of its latest socket. A new socket waits until the handler of the one that
    // dropped has cleaned up (dropped the utterance it left unfinished); otherwise that late cleanup could
    // drop audio the client already sent on its new socket.
    private readonly Dictionary<string, Task> _handlers = new(StringComparer.Ordinal);

    /// <summary>Gets or sets how many <c>agent.speak</c> messages a socket accepts before it is dropped without a close handshake (null: never).</summary>
    public int? DropAfterSpeakMessages { get; set; }

    /// <summary>Gets or sets a value indicating whether <c>agent.speak_end</c> is ignored (a stuck server).</summary>
    public bool IgnoreSpeakEnd { get; set; }

    /// <summary>Reports the avatar's speech as LITE events.</summary>
    public static void Attach(ILiteSocketSession session)
    {
        var avatar = session.Avatar!;
        avatar.SpeakingStarted += (_, e) =>
        {
            session.Post(new JsonObject { ["type"] = "agent.state_updated", ["previous_state"] = "idle", ["new_state"] = "talking" });
            session.Post(new JsonObject { ["type"] = "agent.speak_started", ["event_id"] = e.UtteranceId, ["task"] = new JsonObject { ["id"] = e.UtteranceId } });
        };
        avatar.SpeakingEnded += (_, e) =>
        {
            session.Post(e.Interrupted
                ? new JsonObject { ["type"] = "agent.speak_interrupted", ["event_id"] = e.UtteranceId }
                : new JsonObject { ["type"] = "agent.speak_ended", ["event_id"] = e.UtteranceId, ["task"] = new JsonObject { ["id"] = e.UtteranceId } });
            session.Post(new JsonObject { ["type"] = "agent.state_updated", ["previous_state"] = "talking", ["new_state"] = "idle" });
        };
    }

    /// <summary>Announces the session's end; the pump then closes the socket.</summary>
    public static void PostClosed(ILiteSocketSession session)
    {
        session.Post(new JsonObject { ["type"] = "session.state_updated", ["state"] = "closing" });
        session.Post(new JsonObject { ["type"] = "session.state_updated", ["state"] = "closed" });
    }

    /// <summary>Sends a raw text frame through the session's outbox (to test malformed or unknown events).</summary>
    public static async Task SendRawAsync(ILiteSocketSession? session, string text, CancellationToken cancellationToken)
    {
        if (session?.Socket is null)
        {
            throw new InvalidOperationException($"Session {session?.Id} has no LITE WebSocket.");
        }

        // The outbox pump owns the socket; a raw message goes through it to keep frames whole.
        session.Outbox.Writer.TryWrite(new JsonObject { ["__raw"] = text });
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Serves one WebSocket request of an authenticated session until the socket or the session ends.</summary>
    public async Task RunAsync(HttpContext context, ILiteSocketSession session)
    {
        if (!session.IsActive || session.Socket is { State: WebSocketState.Open })
        {
            context.Response.StatusCode = StatusCodes.Status409Conflict;
            return;
        }

        var handled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task previous;
        lock (_handlers)
        {
            previous = _handlers.GetValueOrDefault(session.Id) ?? Task.CompletedTask;
            _handlers[session.Id] = handled.Task;
        }

        try
        {
            // The previous socket is no longer open (checked above): its handler is finishing.
            await previous.ConfigureAwait(false);
            await ServeAsync(context, session).ConfigureAwait(false);
        }
        finally
        {
            lock (_handlers)
            {
                if (_handlers.GetValueOrDefault(session.Id) == handled.Task)
                {
                    _handlers.Remove(session.Id);
                }
            }

            handled.TrySetResult();
        }
    }

    private async Task ServeAsync(HttpContext context, ILiteSocketSession session)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        session.Socket = socket;
        using var gone = CancellationTokenSource.CreateLinkedTokenSource(session.Lifetime.Token);
        session.Pump = Task.Run(() => PumpAsync(session, socket, gone.Token));
        session.Post(new JsonObject { ["type"] = "session.state_updated", ["state"] = "connected" });

        // When the session ends, the pump sends the last events and the close frame; receiving goes on a little
        // longer, because disposing the socket at once could abort the connection with those frames still unsent.
        using var stop = new CancellationTokenSource();
        using var ended = session.Lifetime.Token.Register(() => stop.CancelAfter(TimeSpan.FromSeconds(2)));
        try
        {
            await ReceiveAsync(session, socket, stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
        // A dropped socket stops its pump; a reconnect gets a new one. A closing session drains first.
        if (!session.HasEnded)
        {
            await gone.CancelAsync().ConfigureAwait(false);

            // Without its sender the buffered utterance can never be committed: drop it.
            session.Avatar?.Interrupt();
        }

        if (session.Pump is { } pump)
        {
            await pump.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (socket.State == WebSocketState.CloseReceived)
        {
            // The client closed: complete its close handshake.
            try
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).ConfigureAwait(false);
            }
            catch (WebSocketException)
            {
            }
        }
    }

    private static async Task PumpAsync(ILiteSocketSession session, WebSocket socket, CancellationToken gone)
    {
        try
        {
            await foreach (var message in session.Outbox.Reader.ReadAllAsync(gone).ConfigureAwait(false))
            {
                var text = message.GetString("__raw") ?? message.ToJsonString();
                await socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None).ConfigureAwait(false);
            }

            // The session ended: the server closes the socket.
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, session.EndReason, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
        }
    }

    private async Task ReceiveAsync(ILiteSocketSession session, WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(64 * 1024);
        while (socket.State == WebSocketState.Open)
        {
            buffer.ResetWrittenCount();
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.GetMemory(16 * 1024), cancellationToken).ConfigureAwait(false);
                buffer.Advance(result.Count);
                if (buffer.WrittenCount > MaxWebSocketMessage)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.MessageTooBig, "Message larger than 1 MB", cancellationToken).ConfigureAwait(false);
                    return;
                }
            }
            while (!result.EndOfMessage);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                return;
            }

            session.Touch();
            if (EmulatorJson.TryParseObject(buffer.WrittenSpan) is not { } message)
            {
                Error(session, "invalid_request_error", "Message is not a JSON object", null);
                continue;
            }

            if (!Handle(session, message))
            {
                // Fault injection: the connection drops without a close handshake.
                socket.Abort();
                return;
            }
        }
    }

    private bool Handle(ILiteSocketSession session, JsonObject message)
    {
        var avatar = session.Avatar!;
        var eventId = message.GetString("event_id");
        received.Enqueue(new RecordedLiteMessage(session.Id, message.GetString("type") ?? string.Empty, eventId, (message.GetString("audio")?.Length ?? 0) / 4 * 3, DateTimeOffset.UtcNow));
        switch (message.GetString("type"))
        {
            case "agent.speak":
                if (eventId is null)
                {
                    Error(session, "invalid_request_error", "event_id is required", null);
                    return true;
                }

                byte[] pcm;
                try
                {
                    pcm = Convert.FromBase64String(message.GetString("audio") ?? string.Empty);
                }
                catch (FormatException)
                {
                    Error(session, "invalid_request_error", "audio is not valid base64", eventId);
                    return true;
                }

                if (pcm.Length % 2 != 0)
                {
                    Error(session, "invalid_request_error", "audio must be PCM16: an even number of bytes", eventId);
                    return true;
                }

                session.SpeakMessages++;
                if (DropAfterSpeakMessages is { } drop && session.SpeakMessages > drop)
                {
                    return false;
                }

                avatar.AppendAudio(eventId, pcm);
                session.Post(new JsonObject { ["type"] = "agent.audio_buffer_appended", ["event_id"] = Guid.NewGuid().ToString(), ["source_event_id"] = eventId });
                break;
            case "agent.speak_end" when eventId is not null:
                if (!IgnoreSpeakEnd)
                {
                    avatar.CommitUtterance(eventId);
                    session.Post(new JsonObject { ["type"] = "agent.audio_buffer_committed", ["event_id"] = Guid.NewGuid().ToString(), ["source_event_id"] = eventId });
                }

                break;
            case "agent.interrupt":
                avatar.Interrupt();
                session.Post(new JsonObject { ["type"] = "agent.audio_buffer_cleared", ["event_id"] = Guid.NewGuid().ToString(), ["source_event_id"] = eventId });
                break;
            case "agent.start_listening":
                session.Post(new JsonObject { ["type"] = "agent.state_updated", ["previous_state"] = "idle", ["new_state"] = "listening" });
                break;
            case "agent.stop_listening":
                session.Post(new JsonObject { ["type"] = "agent.state_updated", ["previous_state"] = "listening", ["new_state"] = "idle" });
                break;
            case "session.keep_alive":
                break;
            default:
                Error(session, "invalid_request_error", $"Unknown message type '{message.GetString("type")}'", eventId);
                break;
        }

        return true;
    }

    private static void Error(ILiteSocketSession session, string type, string text, string? eventId) =>
        session.Post(new JsonObject { ["type"] = "error", ["error"] = new JsonObject { ["type"] = type, ["message"] = text, ["event_id"] = eventId } });
}
