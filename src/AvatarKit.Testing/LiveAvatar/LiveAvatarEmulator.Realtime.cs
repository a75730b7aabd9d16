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

        await _lite.RunAsync(context, session).ConfigureAwait(false);
    }
}
