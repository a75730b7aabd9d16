using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace AvatarKit.HeyGen;

/// <summary>A legacy Streaming API v1 session: text goes out as <c>streaming.task</c>, speaking events come back on the room's data channel.</summary>
internal sealed partial class HeyGenStreamingSession(NewSessionData created, HeyGenStreamingOptions options, IHeyGenStreamingApi api, AvatarSessionManager manager, ILogger logger)
    : AvatarSessionBase(created.SessionId, manager, options.StopTimeout, logger)
{
    private readonly ConcurrentDictionary<string, string> _texts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _interrupted = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _speaking = new(StringComparer.Ordinal);

    public async Task ConnectAsync(IRealtimeRoomConnector connector, CancellationToken cancellationToken)
    {
        await api.StartSessionAsync(new StreamingSessionRequest(SessionId), cancellationToken).ConfigureAwait(false);
        await JoinRoomAsync(connector, created.Url, created.AccessToken, options.AvatarJoinTimeout, cancellationToken, anyParticipant: true).ConfigureAwait(false);
        Room!.DataReceived += (_, e) => OnServerEvent(e.Packet.Payload.Span);
        Open(options.KeepAliveInterval);
    }

    public override async Task SpeakAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        ThrowIfClosed();
        var task = await api.SendTaskAsync(new TaskRequest(SessionId, text, options.Talk ? "talk" : "repeat", "async"), cancellationToken).ConfigureAwait(false);
        if (task.Data?.TaskId is { } id)
        {
            _texts[id] = text;
        }
    }

    public override async Task SpeakAsync(IAsyncEnumerable<string> textChunks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(textChunks);
        await foreach (var sentence in SentenceChunker.SplitAsync(textChunks, cancellationToken).ConfigureAwait(false))
        {
            await SpeakAsync(sentence, cancellationToken).ConfigureAwait(false);
        }
    }

    public override async Task InterruptAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        foreach (var id in _speaking.Keys)
        {
            _interrupted[id] = 0;
        }

        await api.InterruptAsync(new StreamingSessionRequest(SessionId), cancellationToken).ConfigureAwait(false);
    }

    protected override Task KeepAliveAsync(CancellationToken cancellationToken) =>
        api.KeepAliveAsync(new StreamingSessionRequest(SessionId), cancellationToken);

    protected override Task StopRemoteAsync(CancellationToken cancellationToken) =>
        api.StopSessionAsync(new StreamingSessionRequest(SessionId), cancellationToken);

    protected override async ValueTask CloseTransportsAsync()
    {
        if (Room is { } room)
        {
            await room.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void OnServerEvent(ReadOnlySpan<byte> payload)
    {
        StreamingServerEvent? message;
        try
        {
            message = JsonSerializer.Deserialize(payload, StreamingEventJsonContext.Default.StreamingServerEvent);
        }
        catch (JsonException ex)
        {
            LogMalformedEvent(Logger, SessionId, ex.Message);
            return;
        }

        var taskId = message?.TaskId ?? string.Empty;
        switch (message?.Type)
        {
            case "avatar_start_talking":
                _speaking[taskId] = 0;
                OnSpeakingStarted(taskId, _texts.GetValueOrDefault(taskId));
                break;
            case "avatar_stop_talking":
                _speaking.TryRemove(taskId, out _);
                _texts.TryRemove(taskId, out var text);
                OnSpeakingEnded(taskId, text, _interrupted.TryRemove(taskId, out _));
                break;
            default:
                LogIgnoredEvent(Logger, SessionId, message?.Type);
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "HeyGen session {SessionId}: ignored a malformed data message ({Error}).")]
    private static partial void LogMalformedEvent(ILogger logger, string sessionId, string error);

    [LoggerMessage(Level = LogLevel.Trace, Message = "HeyGen session {SessionId}: ignored data message '{Type}'.")]
    private static partial void LogIgnoredEvent(ILogger logger, string sessionId, string? type);
}
