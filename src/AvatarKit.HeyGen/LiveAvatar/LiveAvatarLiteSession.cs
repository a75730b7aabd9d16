using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace AvatarKit.HeyGen;

/// <summary>
/// LITE mode: AvatarKit brings the voice. Speech goes over the session's <c>ws_url</c> through the shared
/// <see cref="LiteAudioStream"/>; the room, when a connector is registered, is only watched.
/// </summary>
internal sealed class LiveAvatarLiteSession : LiveAvatarSessionBase, ILiteStreamOwner
{
    private readonly LiteAudioStream _stream;

    public LiveAvatarLiteSession(StartSessionData start, LiveAvatarOptions options, ILiveAvatarApi api, AvatarSessionManager manager, CreditLedger ledger, ITextToSpeechClient textToSpeech, ILogger logger)
        : base(start, options, api, manager, ledger, logger)
    {
        _stream = new LiteAudioStream(this, options, textToSpeech, logger, "LiveAvatar");
    }

    public override LiveAvatarMode Mode => LiveAvatarMode.Lite;

    /// <summary>Gets a value indicating whether the WebSocket dropped and was not reconnected yet.</summary>
    internal bool SocketLost => _stream.SocketLost;

    bool ILiteStreamOwner.IsClosing => State is AvatarSessionState.Closing or AvatarSessionState.Closed;

    public override async Task ConnectAsync(IRealtimeRoomConnector? connector, CancellationToken cancellationToken)
    {
        var url = WebSocketUrl();

        // Watching the avatar is optional in LITE: without a room connector the session still speaks.
        if (connector is not null && StartData.LivekitUrl is { Length: > 0 })
        {
            await JoinRoomAsync(connector, cancellationToken).ConfigureAwait(false);
        }

        Connector = connector;
        await _stream.ConnectAsync(url, cancellationToken).ConfigureAwait(false);
        _stream.StartSpeaker(Lifetime);
        Open(Options.KeepAliveInterval);
    }

    protected override Task SwapTransportsAsync(IRealtimeRoomConnector? connector, CancellationToken cancellationToken) =>
        _stream.SwapAsync(WebSocketUrl(), async ct =>
        {
            var previousRoom = Room;
            if (connector is not null && StartData.LivekitUrl is { Length: > 0 })
            {
                await JoinRoomAsync(connector, ct).ConfigureAwait(false);
                if (previousRoom is not null)
                {
                    await previousRoom.DisposeAsync().ConfigureAwait(false);
                }
            }
        }, cancellationToken);

    public override Task SpeakAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        ThrowIfClosed();
        return _stream.SpeakAsync(text, cancellationToken);
    }

    public override Task SpeakAsync(IAsyncEnumerable<string> textChunks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(textChunks);
        ThrowIfClosed();
        return _stream.SpeakAsync(textChunks, cancellationToken);
    }

    public override Task InterruptAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        return _stream.InterruptAsync(cancellationToken);
    }

    protected override async ValueTask CloseTransportsAsync()
    {
        await _stream.DisposeAsync().ConfigureAwait(false);
        await base.CloseTransportsAsync().ConfigureAwait(false);
    }

    void ILiteStreamOwner.OnUtteranceStarted(string utteranceId, string? text) => OnSpeakingStarted(utteranceId, text);

    void ILiteStreamOwner.OnUtteranceEnded(string utteranceId, string? text, bool interrupted) => OnSpeakingEnded(utteranceId, text, interrupted);

    void ILiteStreamOwner.OnAllUtterancesEnded() => EndAllSpeaking();

    void ILiteStreamOwner.OnServerClosed(string reason) => OnRemoteSessionEnded(reason);

    private Uri WebSocketUrl() => StartData.WsUrl is { Length: > 0 } url
        ? new Uri(url)
        : throw new AvatarApiException($"LiveAvatar started LITE session {SessionId} without a ws_url.");
}
