using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace AvatarKit.Testing.LiveAvatar;

/// <summary>The realtime side: FULL commands on the room's data channel, LITE audio on the WebSocket.</summary>
public sealed partial class LiveAvatarEmulator
{
    private void AttachFull(EmulatedLiveAvatarSession session)
    {
        var avatar = session.Avatar!;
        avatar.SpeakingStarted += (_, e) => session.Post(FullEvent("avatar.speak_started", session, e.UtteranceId));
        avatar.SpeakingEnded += (_, e) => session.Post(FullEvent("avatar.speak_ended", session, e.UtteranceId));
        avatar.Room.DataReceived += (_, e) =>
        {
            if (e.Packet.Topic == ControlTopic)
            {
                OnFullCommand(session, e.Packet.Payload.Span);
            }
        };
        session.Pump = Task.Run(async () =>
        {
            var options = new RoomDataOptions { Topic = ResponseTopic };
            await foreach (var message in session.Outbox.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                try
                {
                    await avatar.Room.PublishDataAsync(EmulatedLiveAvatarSession.Utf8(message), options).ConfigureAwait(false);
                }
                catch (InvalidOperationException)
                {
                    // The client left the room: nobody to tell.
                }
            }
        });
    }

    private static JsonObject FullEvent(string type, EmulatedLiveAvatarSession session, string utteranceId)
    {
        string? source;
        lock (session.SourceEvents)
        {
            source = session.SourceEvents.GetValueOrDefault(utteranceId);
        }

        return new JsonObject { ["event_type"] = type, ["event_id"] = Guid.NewGuid().ToString(), ["source_event_id"] = source };
    }

    private void OnFullCommand(EmulatedLiveAvatarSession session, ReadOnlySpan<byte> payload)
    {
        // Malformed commands are ignored, as the real agent does.
        if (EmulatorJson.TryParseObject(payload) is not { } command || !session.IsActive)
        {
            return;
        }

        session.Touch();
        var eventId = command.GetString("event_id");
        switch (command.GetString("event_type"))
        {
            case "avatar.speak_text" when command.GetString("text") is { Length: > 0 } text:
                Speak(session, eventId, text);
                break;
            case "avatar.speak_response" when command.GetString("text") is { Length: > 0 } text:
                session.Post(new JsonObject { ["event_type"] = "user.transcription", ["event_id"] = Guid.NewGuid().ToString(), ["source_event_id"] = eventId, ["text"] = text });
                Speak(session, eventId, $"You said: {text}");
                break;
            case "avatar.interrupt":
                session.Avatar?.Interrupt();
                break;
        }
    }

    private void Speak(EmulatedLiveAvatarSession session, string? eventId, string text)
    {
        var utteranceId = Guid.NewGuid().ToString();
        lock (session.SourceEvents)
        {
            session.SourceEvents[utteranceId] = eventId ?? utteranceId;
        }

        session.Post(new JsonObject { ["event_type"] = "avatar.transcription", ["event_id"] = Guid.NewGuid().ToString(), ["source_event_id"] = eventId, ["text"] = text });
        _ = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(_options.SpeechLatency, session.Lifetime.Token).ConfigureAwait(false);
                await session.Avatar!.SayAsync(utteranceId, text, session.Lifetime.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    private static void AttachLite(EmulatedLiveAvatarSession session)
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

    private async Task LiteSocketAsync(HttpContext context, string id)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        if (!_sessions.TryGetValue(id, out var session) || !session.IsLite || context.Request.Query["token"] != session.WebSocketToken)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        if (!session.IsActive || session.Socket is { State: WebSocketState.Open })
        {
            context.Response.StatusCode = StatusCodes.Status409Conflict;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);
        session.Socket = socket;
        using var gone = CancellationTokenSource.CreateLinkedTokenSource(session.Lifetime.Token);
        session.Pump = Task.Run(() => PumpLiteAsync(session, socket, gone.Token));
        session.Post(new JsonObject { ["type"] = "session.state_updated", ["state"] = "connected" });
        try
        {
            await ReceiveLiteAsync(session, socket, session.Lifetime.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }

        // A dropped socket stops its pump; a reconnect gets a new one. A closing session drains first.
        if (session.EndedAt is null)
        {
            await gone.CancelAsync().ConfigureAwait(false);

            // Without its sender the buffered utterance can never be committed: drop it.
            session.Avatar?.Interrupt();
        }

        if (session.Pump is { } pump)
        {
            await pump.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static async Task PumpLiteAsync(EmulatedLiveAvatarSession session, WebSocket socket, CancellationToken gone)
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

    private async Task ReceiveLiteAsync(EmulatedLiveAvatarSession session, WebSocket socket, CancellationToken cancellationToken)
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
                LiteError(session, "invalid_request_error", "Message is not a JSON object", null);
                continue;
            }

            if (!HandleLite(session, message))
            {
                // Fault injection: the connection drops without a close handshake.
                socket.Abort();
                return;
            }
        }
    }

    private bool HandleLite(EmulatedLiveAvatarSession session, JsonObject message)
    {
        var avatar = session.Avatar!;
        var eventId = message.GetString("event_id");
        _liteMessages.Enqueue(new RecordedLiteMessage(session.Id, message.GetString("type") ?? string.Empty, eventId, (message.GetString("audio")?.Length ?? 0) / 4 * 3, DateTimeOffset.UtcNow));
        switch (message.GetString("type"))
        {
            case "agent.speak":
                if (eventId is null)
                {
                    LiteError(session, "invalid_request_error", "event_id is required", null);
                    return true;
                }

                byte[] pcm;
                try
                {
                    pcm = Convert.FromBase64String(message.GetString("audio") ?? string.Empty);
                }
                catch (FormatException)
                {
                    LiteError(session, "invalid_request_error", "audio is not valid base64", eventId);
                    return true;
                }

                if (pcm.Length % 2 != 0)
                {
                    LiteError(session, "invalid_request_error", "audio must be PCM16: an even number of bytes", eventId);
                    return true;
                }

                session.SpeakMessages++;
                if (DropLiteSocketAfterSpeakMessages is { } drop && session.SpeakMessages > drop)
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
                LiteError(session, "invalid_request_error", $"Unknown message type '{message.GetString("type")}'", eventId);
                break;
        }

        return true;
    }

    private static void LiteError(EmulatedLiveAvatarSession session, string type, string text, string? eventId) =>
        session.Post(new JsonObject { ["type"] = "error", ["error"] = new JsonObject { ["type"] = type, ["message"] = text, ["event_id"] = eventId } });
}
