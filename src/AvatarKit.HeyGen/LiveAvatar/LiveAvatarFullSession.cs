using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace AvatarKit.HeyGen;

/// <summary>
/// FULL mode: LiveAvatar speaks; AvatarKit sends commands on the room's <c>agent-control</c> topic
/// and reads events from <c>agent-response</c>.
/// </summary>
internal sealed partial class LiveAvatarFullSession(StartSessionData start, LiveAvatarOptions options, ILiveAvatarApi api, AvatarSessionManager manager, CreditLedger ledger, ILogger logger)
    : LiveAvatarSessionBase(start, options, api, manager, ledger, logger)
{
    internal const string ControlTopic = "agent-control";
    internal const string ResponseTopic = "agent-response";

    private readonly ConcurrentDictionary<string, string> _texts = new(StringComparer.Ordinal);

    public override LiveAvatarMode Mode => LiveAvatarMode.Full;

    public override async Task ConnectAsync(IRealtimeRoomConnector? connector, CancellationToken cancellationToken)
    {
        if (connector is null)
        {
            throw new InvalidOperationException("FULL mode is steered over the room's data channel: register an IRealtimeRoomConnector (e.g. .AddLiveKit()).");
        }

        await JoinRoomAsync(connector, cancellationToken).ConfigureAwait(false);
        Room!.DataReceived += (_, e) =>
        {
            if (e.Packet.Topic == ResponseTopic)
            {
                OnServerEvent(e.Packet.Payload.Span);
            }
        };
        Open(Options.KeepAliveInterval);
    }

    public override Task SpeakAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        ThrowIfClosed();
        var eventId = Guid.NewGuid().ToString();
        _texts[eventId] = text;
        return SendAsync(new LiveAvatarCommand(Options.SpeakAsResponse ? "avatar.speak_response" : "avatar.speak_text", eventId, text), cancellationToken);
    }

    public override async Task SpeakAsync(IAsyncEnumerable<string> textChunks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(textChunks);

        // Each sentence goes out as soon as it is complete; the avatar queues them in order.
        await foreach (var sentence in SentenceChunker.SplitAsync(textChunks, cancellationToken).ConfigureAwait(false))
        {
            await SpeakAsync(sentence, cancellationToken).ConfigureAwait(false);
        }
    }

    public override Task InterruptAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        return SendAsync(new LiveAvatarCommand("avatar.interrupt", Guid.NewGuid().ToString(), null), cancellationToken);
    }

    private Task SendAsync(LiveAvatarCommand command, CancellationToken cancellationToken)
    {
        var room = Room ?? throw new InvalidOperationException("The session is not connected to its room.");
        var payload = JsonSerializer.SerializeToUtf8Bytes(command, LiveAvatarEventJsonContext.Default.LiveAvatarCommand);
        return room.PublishDataAsync(payload, new RoomDataOptions { Topic = ControlTopic, Reliable = true }, cancellationToken);
    }

    private void OnServerEvent(ReadOnlySpan<byte> payload)
    {
        LiveAvatarServerEvent? message;
        try
        {
            message = JsonSerializer.Deserialize(payload, LiveAvatarEventJsonContext.Default.LiveAvatarServerEvent);
        }
        catch (JsonException ex)
        {
            LogMalformedEvent(Logger, SessionId, ex.Message);
            return;
        }

        if (message?.EventType is not { } type)
        {
            LogMalformedEvent(Logger, SessionId, "no event_type");
            return;
        }

        var utterance = message.SourceEventId ?? message.EventId ?? string.Empty;
        switch (type)
        {
            case "avatar.speak_started":
                OnSpeakingStarted(utterance, _texts.GetValueOrDefault(utterance));
                break;
            case "avatar.speak_ended":
                _texts.TryRemove(utterance, out var text);
                OnSpeakingEnded(utterance, text, interrupted: false);
                break;
            case "avatar.transcription" when message.Text is { } said:
                OnTranscript("avatar", said, isFinal: true);
                break;
            case "avatar.transcription.chunk" when message.Text is { } said:
                OnTranscript("avatar", said, isFinal: false);
                break;
            case "user.transcription" when message.Text is { } said:
                OnTranscript("user", said, isFinal: true);
                break;
            case "user.transcription.chunk" when message.Text is { } said:
                OnTranscript("user", said, isFinal: false);
                break;
            case "session.stopped":
                OnRemoteEnded(message.StopReason ?? message.EndReason ?? "UNKNOWN");
                break;
            default:
                LogIgnoredEvent(Logger, SessionId, type);
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Avatar session {SessionId}: ignored a malformed server event ({Error}).")]
    private static partial void LogMalformedEvent(ILogger logger, string sessionId, string error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Avatar session {SessionId}: ignored server event '{EventType}'.")]
    private static partial void LogIgnoredEvent(ILogger logger, string sessionId, string eventType);
}
