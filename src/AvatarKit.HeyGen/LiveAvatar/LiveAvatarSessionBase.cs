using Microsoft.Extensions.Logging;

namespace AvatarKit.HeyGen;

/// <summary>What FULL and LITE sessions share: the REST keep-alive and stop, the room, the credit meter.</summary>
internal abstract class LiveAvatarSessionBase : AvatarSessionBase, ILiveAvatarSession
{
    private readonly ILiveAvatarApi _api;

    protected LiveAvatarSessionBase(StartSessionData start, LiveAvatarOptions options, ILiveAvatarApi api, AvatarSessionManager manager, ILogger logger)
        : base(start.SessionId, manager, options.StopTimeout, logger)
    {
        _api = api;
        Options = options;
        StartData = start;
        MaxDuration = start.MaxSessionDuration is { } seconds ? TimeSpan.FromSeconds(seconds) : null;
    }

    public event EventHandler<AvatarTranscriptEventArgs>? TranscriptReceived;

    public abstract LiveAvatarMode Mode { get; }

    public TimeSpan? MaxDuration { get; }

    public double EstimatedCredits => LiveAvatarCredits.Estimate(Mode, Options.IsSandbox, (State == AvatarSessionState.Closed ? ClosedAt : DateTimeOffset.UtcNow) - OpenedAt);

    protected LiveAvatarOptions Options { get; }

    protected StartSessionData StartData { get; }

    private DateTimeOffset ClosedAt { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>Joins the room and the control channel, then opens the session.</summary>
    public abstract Task ConnectAsync(IRealtimeRoomConnector? connector, CancellationToken cancellationToken);

    protected void OnTranscript(string role, string text, bool isFinal) =>
        TranscriptReceived?.Invoke(this, new AvatarTranscriptEventArgs(role, text, isFinal));

    /// <summary>Joins the LiveKit room with the client token and waits for the avatar's media.</summary>
    protected Task JoinRoomAsync(IRealtimeRoomConnector connector, CancellationToken cancellationToken) =>
        JoinRoomAsync(connector, StartData.LivekitUrl, StartData.LivekitClientToken, Options.AvatarJoinTimeout, cancellationToken);

    protected override Task KeepAliveAsync(CancellationToken cancellationToken) =>
        _api.KeepAliveAsync(new SessionIdRequest(SessionId), cancellationToken);

    protected override async Task StopRemoteAsync(CancellationToken cancellationToken)
    {
        ClosedAt = DateTimeOffset.UtcNow;
        await _api.StopSessionAsync(new StopSessionRequest(SessionId, "USER_CLOSED"), cancellationToken).ConfigureAwait(false);
    }

    protected override async ValueTask CloseTransportsAsync()
    {
        if (Room is { } room)
        {
            await room.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>LiveAvatar's per-minute credit rates.</summary>
internal static class LiveAvatarCredits
{
    public static double RatePerMinute(LiveAvatarMode mode, bool sandbox) => sandbox ? 0 : mode == LiveAvatarMode.Full ? 2 : 1;

    /// <summary>Credits for a session that has run <paramref name="elapsed"/>: every started minute is billed (one minute is escrowed at start).</summary>
    public static double Estimate(LiveAvatarMode mode, bool sandbox, TimeSpan elapsed) =>
        Math.Max(1, Math.Ceiling(elapsed.TotalMinutes)) * RatePerMinute(mode, sandbox);
}
