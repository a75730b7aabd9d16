using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace AvatarKit.HeyGen;

/// <summary>
/// A legacy Streaming API v1 session. By default text goes out as <c>streaming.task</c> and speaking events come back
/// on the room's data channel; with <see cref="HeyGenStreamingOptions.UseRealtimeEndpoint"/> speech is your own voice,
/// streamed over <c>realtime_endpoint</c> by the <see cref="LiteAudioStream"/> LiveAvatar LITE uses too.
/// </summary>
internal sealed partial class HeyGenStreamingSession : AvatarSessionBase, ILiteStreamOwner
{
    private readonly NewSessionData _created;
    private readonly HeyGenStreamingOptions _options;
    private readonly IHeyGenStreamingApi _api;
    private readonly LiteAudioStream? _realtime;
    private readonly ConcurrentDictionary<string, string> _texts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _interrupted = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _speaking = new(StringComparer.Ordinal);

    public HeyGenStreamingSession(NewSessionData created, HeyGenStreamingOptions options, IHeyGenStreamingApi api, AvatarSessionManager manager, ITextToSpeechClient? textToSpeech, ILogger logger)
        : base(created.SessionId, manager, options.StopTimeout, logger)
    {
        _created = created;
        _options = options;
        _api = api;
        if (options.UseRealtimeEndpoint)
        {
            _realtime = new LiteAudioStream(this, options, textToSpeech ?? throw new ArgumentNullException(nameof(textToSpeech)), logger, "HeyGen");
        }
    }

    /// <summary>Gets a value indicating whether the realtime WebSocket dropped and was not reconnected yet.</summary>
    internal bool SocketLost => _realtime?.SocketLost ?? false;

    bool ILiteStreamOwner.IsClosing => State is AvatarSessionState.Closing or AvatarSessionState.Closed;

    public async Task ConnectAsync(IRealtimeRoomConnector? connector, CancellationToken cancellationToken)
    {
        await _api.StartSessionAsync(new StreamingSessionRequest(SessionId), cancellationToken).ConfigureAwait(false);
        if (connector is not null)
        {
            await JoinRoomAsync(connector, _created.Url, _created.AccessToken, _options.AvatarJoinTimeout, cancellationToken, anyParticipant: true).ConfigureAwait(false);
        }

        if (_realtime is not null)
        {
            var endpoint = _created.RealtimeEndpoint is { Length: > 0 } url
                ? new Uri(url)
                : throw new AvatarApiException($"HeyGen created session {SessionId} without a realtime_endpoint; turn UseRealtimeEndpoint off.");
            await _realtime.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
            _realtime.StartSpeaker(Lifetime);
        }
        else
        {
            // Task mode: the avatar's speaking events arrive on the data channel (the room is required).
            Room!.DataReceived += (_, e) => OnServerEvent(e.Packet.Payload.Span);
        }

        Open(_options.KeepAliveInterval);
    }

    public override async Task SpeakAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        ThrowIfClosed();
        if (_realtime is not null)
        {
            await _realtime.SpeakAsync(text, cancellationToken).ConfigureAwait(false);
            return;
        }

        var task = await _api.SendTaskAsync(new TaskRequest(SessionId, text, _options.Talk ? "talk" : "repeat", "async"), cancellationToken).ConfigureAwait(false);
        if (task.Data?.TaskId is { } id)
        {
            _texts[id] = text;
        }
    }

    public override async Task SpeakAsync(IAsyncEnumerable<string> textChunks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(textChunks);
        if (_realtime is not null)
        {
            ThrowIfClosed();
            await _realtime.SpeakAsync(textChunks, cancellationToken).ConfigureAwait(false);
            return;
        }

        await foreach (var sentence in SentenceChunker.SplitAsync(textChunks, cancellationToken).ConfigureAwait(false))
        {
            await SpeakAsync(sentence, cancellationToken).ConfigureAwait(false);
        }
    }

    public override async Task InterruptAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        if (_realtime is not null)
        {
            await _realtime.InterruptAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        foreach (var id in _speaking.Keys)
        {
            _interrupted[id] = 0;
        }

        await _api.InterruptAsync(new StreamingSessionRequest(SessionId), cancellationToken).ConfigureAwait(false);
    }

    protected override Task KeepAliveAsync(CancellationToken cancellationToken) =>
        _api.KeepAliveAsync(new StreamingSessionRequest(SessionId), cancellationToken);

    protected override Task StopRemoteAsync(CancellationToken cancellationToken) =>
        _api.StopSessionAsync(new StreamingSessionRequest(SessionId), cancellationToken);

    protected override async ValueTask CloseTransportsAsync()
    {
        if (_realtime is not null)
        {
            await _realtime.DisposeAsync().ConfigureAwait(false);
        }

        if (Room is { } room)
        {
            await room.DisposeAsync().ConfigureAwait(false);
        }
    }

    void ILiteStreamOwner.OnUtteranceStarted(string utteranceId, string? text) => OnSpeakingStarted(utteranceId, text);

    void ILiteStreamOwner.OnUtteranceEnded(string utteranceId, string? text, bool interrupted) => OnSpeakingEnded(utteranceId, text, interrupted);

    void ILiteStreamOwner.OnAllUtterancesEnded() => EndAllSpeaking();

    void ILiteStreamOwner.OnServerClosed(string reason) => OnRemoteEnded(reason);

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
