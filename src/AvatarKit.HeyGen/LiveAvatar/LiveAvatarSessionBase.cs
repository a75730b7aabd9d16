using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace AvatarKit.HeyGen;

/// <summary>What FULL and LITE sessions share: the REST keep-alive and stop, the room, the credit meter.</summary>
internal abstract partial class LiveAvatarSessionBase : AvatarSessionBase, ILiveAvatarSession
{
    private static readonly string[] RenewableEndReasons = ["MAX_DURATION_REACHED", "IDLE_TIMEOUT", "SERVER_ERROR", "ZOMBIE_SESSION_REAP", "UNKNOWN"];

    private readonly ILiveAvatarApi _api;
    private readonly CreditLedger _ledger;
    private int _chargedMinutes;
    private readonly SemaphoreSlim _renewing = new(1, 1);
    private Task _meter = Task.CompletedTask;
    private Task _renewal = Task.CompletedTask;
    private DateTimeOffset _remoteStartedAt = DateTimeOffset.UtcNow;
    private volatile bool _inRenewal;

    protected LiveAvatarSessionBase(StartSessionData start, LiveAvatarOptions options, ILiveAvatarApi api, AvatarSessionManager manager, CreditLedger ledger, ILogger logger)
        : base(start.SessionId, manager, options.StopTimeout, logger)
    {
        _api = api;
        _ledger = ledger;
        Options = options;
        StartData = start;
        MaxDuration = start.MaxSessionDuration is { } seconds ? TimeSpan.FromSeconds(seconds) : null;
    }

    public event EventHandler<AvatarTranscriptEventArgs>? TranscriptReceived;

    public event EventHandler<AvatarCreditsEventArgs>? CreditsCharged;

    public event EventHandler<AvatarSessionRenewedEventArgs>? Renewed;

    public abstract LiveAvatarMode Mode { get; }

    public TimeSpan? MaxDuration { get; private set; }

    /// <summary>Gets or sets how a replacement remote session is created (token and start); renewal is off when null.</summary>
    internal Func<CancellationToken, Task<StartSessionData>>? StartReplacement { get; set; }

    public double EstimatedCredits => Volatile.Read(ref _chargedMinutes) * LiveAvatarCredits.RatePerMinute(Mode, Options.IsSandbox);

    protected LiveAvatarOptions Options { get; }

    protected StartSessionData StartData { get; private set; }

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
        await _meter.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        // A renewal in flight finishes (or gives up) first, so that its replacement is the one stopped.
        await _renewing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _api.StopSessionAsync(new StopSessionRequest(SessionId, "USER_CLOSED"), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _renewing.Release();
        }
    }

    protected override void OnOpened()
    {
        _meter = Task.Run(() => MeterAsync(Lifetime), CancellationToken.None);
        if (StartReplacement is not null)
        {
            _renewal = Task.Run(() => RenewBeforeLimitAsync(Lifetime), CancellationToken.None);
        }
    }

    /// <summary>The provider ended the remote session: renew when allowed and the reason is not a deliberate stop, else close.</summary>
    protected void OnRemoteSessionEnded(string reason)
    {
        // The end of the session a renewal is replacing (possibly stopped by the renewal itself) is expected.
        if (_inRenewal)
        {
            return;
        }

        if (StartReplacement is not null && RenewableEndReasons.Contains(reason, StringComparer.OrdinalIgnoreCase)
            && State is not (AvatarSessionState.Closing or AvatarSessionState.Closed))
        {
            _ = RenewAsync(reason, SessionId);
        }
        else
        {
            OnRemoteEnded(reason);
        }
    }

    /// <summary>Connects the transports to <see cref="StartData"/> (the replacement), leaves the old ones, and speaks again what was cut.</summary>
    protected abstract Task SwapTransportsAsync(IRealtimeRoomConnector? connector, CancellationToken cancellationToken);

    /// <summary>Gets the connector the session joined its room with.</summary>
    protected IRealtimeRoomConnector? Connector { get; set; }

    private async Task RenewBeforeLimitAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (MaxDuration is { } max)
            {
                var due = _remoteStartedAt + max - Options.RenewBeforeEnd - DateTimeOffset.UtcNow;
                await Task.Delay(due > TimeSpan.Zero ? due : TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
                if (!await RenewAsync("MAX_DURATION_APPROACHING", SessionId).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task<bool> RenewAsync(string reason, string expiring)
    {
        var lifetime = Lifetime;
        try
        {
            await _renewing.WaitAsync(lifetime).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        var held = true;
        try
        {
            // Another trigger renewed this remote session already.
            if (SessionId != expiring || lifetime.IsCancellationRequested)
            {
                return true;
            }

            LogRenewing(Logger, expiring, reason);
            _inRenewal = true;
            StartSessionData next;
            try
            {
                next = await StartReplacement!(lifetime).ConfigureAwait(false);
            }
            catch (AvatarSessionLimitException)
            {
                // The account allows no second session: break before make.
                await StopQuietlyAsync(expiring).ConfigureAwait(false);
                next = await StartReplacement!(lifetime).ConfigureAwait(false);
            }

            StartData = next;
            MaxDuration = next.MaxSessionDuration is { } seconds ? TimeSpan.FromSeconds(seconds) : null;
            _remoteStartedAt = DateTimeOffset.UtcNow;
            ReplaceSessionId(next.SessionId);
            await SwapTransportsAsync(Connector, lifetime).ConfigureAwait(false);
            await StopQuietlyAsync(expiring).ConfigureAwait(false);
            LogRenewed(Logger, expiring, next.SessionId);
            Renewed?.Invoke(this, new AvatarSessionRenewedEventArgs(expiring, next.SessionId, reason));
            return true;
        }
#pragma warning disable CA1031 // A failed renewal ends the session like the provider's end would; it is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogRenewFailed(Logger, expiring, ex.Message);
            if (SessionId != expiring)
            {
                // The replacement is the session now (closing stops it); the expiring one is stopped here.
                await StopQuietlyAsync(expiring).ConfigureAwait(false);
            }

            // Closing waits for this lock to stop the remote session: release it first.
            _inRenewal = false;
            held = false;
            _renewing.Release();
            OnRemoteEnded(reason);
            return false;
        }
        finally
        {
            _inRenewal = false;
            if (held)
            {
                _renewing.Release();
            }
        }
    }

    private async Task StopQuietlyAsync(string sessionId)
    {
        try
        {
            using var timeout = new CancellationTokenSource(Options.StopTimeout);
            await _api.StopSessionAsync(new StopSessionRequest(sessionId, "USER_CLOSED"), timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AvatarApiException or HttpRequestException or OperationCanceledException)
        {
            LogRenewFailed(Logger, sessionId, $"stopping the replaced session failed: {ex.Message}");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Avatar session {SessionId}: renewing ({Reason}).")]
    private static partial void LogRenewing(ILogger logger, string sessionId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Avatar session {SessionId} renewed as {NewSessionId}.")]
    private static partial void LogRenewed(ILogger logger, string sessionId, string newSessionId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Avatar session {SessionId}: renewal failed: {Error}")]
    private static partial void LogRenewFailed(ILogger logger, string sessionId, string error);

    /// <summary>Charges every started minute (the first is escrowed at start) and ends the session cleanly before it would pass the cap.</summary>
    private async Task MeterAsync(CancellationToken cancellationToken)
    {
        var rate = LiveAvatarCredits.RatePerMinute(Mode, Options.IsSandbox);
        using var timer = new PeriodicTimer(Options.BillingMinute);
        try
        {
            do
            {
                if (!_ledger.TryCharge(rate))
                {
                    OnRemoteEnded("CREDIT_CAP_REACHED");
                    return;
                }

                Interlocked.Increment(ref _chargedMinutes);
                LiveAvatarCredits.Charged.Add(rate, new KeyValuePair<string, object?>("avatarkit.avatar.mode", Mode == LiveAvatarMode.Full ? "full" : "lite"));
                CreditsCharged?.Invoke(this, new AvatarCreditsEventArgs(EstimatedCredits, _ledger.Total, _ledger.Cap));
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    protected override async ValueTask CloseTransportsAsync()
    {
        if (Room is { } room)
        {
            await room.DisposeAsync().ConfigureAwait(false);
        }
    }
}

/// <summary>LiveAvatar's per-minute credit rates and the credit metric.</summary>
internal static class LiveAvatarCredits
{
    private static readonly Meter Meter = new("AvatarKit");

    /// <summary>Gets the counter of estimated credits charged, tagged with the mode.</summary>
    public static Counter<double> Charged { get; } = Meter.CreateCounter<double>("avatarkit.avatar.credits", "{credit}", "Estimated provider credits charged by avatar sessions.");

    public static double RatePerMinute(LiveAvatarMode mode, bool sandbox) => sandbox ? 0 : mode == LiveAvatarMode.Full ? 2 : 1;
}

/// <summary>The credits one service's sessions were charged, against an optional cap. Thread-safe.</summary>
/// <param name="cap">The most credits that may be charged; none when null.</param>
internal sealed class CreditLedger(double? cap)
{
    private readonly Lock _gate = new();
    private double _total;

    public double? Cap { get; } = cap;

    public double Total
    {
        get
        {
            lock (_gate)
            {
                return _total;
            }
        }
    }

    /// <summary>Whether <paramref name="credits"/> more would stay within the cap.</summary>
    public bool CanCharge(double credits)
    {
        lock (_gate)
        {
            return Cap is not { } cap || _total + credits <= cap;
        }
    }

    public bool TryCharge(double credits)
    {
        lock (_gate)
        {
            if (Cap is { } cap && _total + credits > cap)
            {
                return false;
            }

            _total += credits;
            return true;
        }
    }
}
