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

    // Unfinished utterances in the order they were sent: what a renewal speaks again.
    private readonly ConcurrentDictionary<string, (long Order, string Text)> _texts = new(StringComparer.Ordinal);
    private long _order;

    public override LiveAvatarMode Mode => LiveAvatarMode.Full;

    public override async Task ConnectAsync(IRealtimeRoomConnector? connector, CancellationToken cancellationToken)
    {
        if (connector is null)
        {
            throw new InvalidOperationException("FULL mode is steered over the room's data channel: register an IRealtimeRoomConnector (e.g. .AddLiveKit()).");
        }

        Connector = connector;
        await JoinRoomAsync(connector, cancellationToken).ConfigureAwait(false);
        Attach(Room!);
        Open(Options.KeepAliveInterval);
    }

    protected override async Task SwapTransportsAsync(IRealtimeRoomConnector? connector, CancellationToken cancellationToken)
    {
        var previous = Room;
        var cut = _texts.OrderBy(t => t.Value.Order).Select(t => (Id: t.Key, t.Value.Text)).ToList();
        _texts.Clear();
        await JoinRoomAsync(connector!, cancellationToken).ConfigureAwait(false);
        Attach(Room!);
        if (previous is not null)
        {
            await previous.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var (id, text) in cut)
        {
            OnSpeakingEnded(id, text, interrupted: true);
        }

        // The new avatar finishes the answer: what was cut or still queued is said again, in order.
        foreach (var (_, text) in cut)
        {
            await SpeakAsync(text, cancellationToken).ConfigureAwait(false);
        }
    }

    public override Task SpeakAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        ThrowIfClosed();
        var eventId = Guid.NewGuid().ToString();
        _texts[eventId] = (Interlocked.Increment(ref _order), text);
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

        // The avatar drops what is queued: nothing of it is owed after a renewal.
        _texts.Clear();
        return SendAsync(new LiveAvatarCommand("avatar.interrupt", Guid.NewGuid().ToString(), null), cancellationToken);
    }

    private void Attach(IRealtimeRoom room) =>
        room.DataReceived += (_, e) =>
        {
            // Events of a room left behind by a renewal (e.g. its session.stopped) are not ours any more.
            if (e.Packet.Topic == ResponseTopic && ReferenceEquals(room, Room))
            {
                OnServerEvent(e.Packet.Payload.Span);
            }
        };

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
                OnSpeakingStarted(utterance, _texts.TryGetValue(utterance, out var speaking) ? speaking.Text : null);
                break;
            case "avatar.speak_ended":
                _texts.TryRemove(utterance, out var spoken);
                OnSpeakingEnded(utterance, spoken.Text, interrupted: false);
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
                OnRemoteSessionEnded(message.StopReason ?? message.EndReason ?? "UNKNOWN");
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
