using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace AvatarKit.HeyGen;

/// <summary>What FULL and LITE sessions share: the REST keep-alive and stop, the room, the credit meter.</summary>
internal abstract class LiveAvatarSessionBase : AvatarSessionBase, ILiveAvatarSession
{
    private readonly ILiveAvatarApi _api;
    private readonly CreditLedger _ledger;
    private int _chargedMinutes;
    private Task _meter = Task.CompletedTask;

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

    public abstract LiveAvatarMode Mode { get; }

    public TimeSpan? MaxDuration { get; }

    public double EstimatedCredits => Volatile.Read(ref _chargedMinutes) * LiveAvatarCredits.RatePerMinute(Mode, Options.IsSandbox);

    protected LiveAvatarOptions Options { get; }

    protected StartSessionData StartData { get; }

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
        await _api.StopSessionAsync(new StopSessionRequest(SessionId, "USER_CLOSED"), cancellationToken).ConfigureAwait(false);
    }

    protected override void OnOpened() => _meter = Task.Run(() => MeterAsync(Lifetime), CancellationToken.None);

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
