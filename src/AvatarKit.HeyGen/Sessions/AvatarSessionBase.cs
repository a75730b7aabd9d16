using Microsoft.Extensions.Logging;

namespace AvatarKit.HeyGen;

/// <summary>
/// What every HeyGen session shares: the state machine and its events, the keep-alive loop,
/// and a <see cref="DisposeAsync"/> that always stops the remote session, exactly once.
/// </summary>
internal abstract partial class AvatarSessionBase : IAvatarSession
{
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _lifetime = new();
    private readonly AvatarSessionManager _manager;
    private readonly TimeSpan _stopTimeout;
    private readonly HashSet<string> _speaking = new(StringComparer.Ordinal);
    private AvatarSessionState _state = AvatarSessionState.Starting;
    private Task _keepAlive = Task.CompletedTask;
    private Task? _disposal;

    protected AvatarSessionBase(string sessionId, AvatarSessionManager manager, TimeSpan stopTimeout, ILogger logger)
    {
        SessionId = sessionId;
        _manager = manager;
        _stopTimeout = stopTimeout;
        Logger = logger;
    }

    public event EventHandler<AvatarSessionStateChangedEventArgs>? StateChanged;

    public event EventHandler<AvatarSpeechEventArgs>? SpeakingStarted;

    public event EventHandler<AvatarSpeechEventArgs>? SpeakingEnded;

    public string SessionId { get; private set; }

    public DateTimeOffset OpenedAt { get; } = DateTimeOffset.UtcNow;

    public AvatarSessionState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    public IRealtimeRoom? Room { get; protected set; }

    public string AvatarIdentity { get; protected set; } = "heygen";

    /// <summary>Gets the reason the provider ended the session, when it did.</summary>
    public string? EndReason { get; private set; }

    protected ILogger Logger { get; }

    /// <summary>Gets a token cancelled when the session closes.</summary>
    protected CancellationToken Lifetime => _lifetime.Token;

    public abstract Task SpeakAsync(string text, CancellationToken cancellationToken = default);

    public abstract Task SpeakAsync(IAsyncEnumerable<string> textChunks, CancellationToken cancellationToken = default);

    public abstract Task InterruptAsync(CancellationToken cancellationToken = default);

    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _disposal ??= CloseAsync();
        }

        return new ValueTask(_disposal);
    }

    /// <summary>Marks the session ready, registers it and starts keeping it alive.</summary>
    protected void Open(TimeSpan keepAliveInterval)
    {
        SetState(AvatarSessionState.Ready);
        _keepAlive = Task.Run(() => KeepAliveLoopAsync(keepAliveInterval, _lifetime.Token));
        OnOpened();
    }

    /// <summary>Called once the session is ready, to start per-session background work that ends with <see cref="Lifetime"/>.</summary>
    protected virtual void OnOpened()
    {
    }

    /// <summary>
    /// Joins the session's room and waits until the avatar publishes audio: the participant named
    /// <see cref="AvatarIdentity"/>, or when <paramref name="anyParticipant"/> the first one that does
    /// (the legacy API does not name its avatar).
    /// </summary>
    protected async Task JoinRoomAsync(IRealtimeRoomConnector connector, string? url, string? token, TimeSpan timeout, CancellationToken cancellationToken, bool anyParticipant = false)
    {
        if (url is not { Length: > 0 } || token is not { Length: > 0 })
        {
            throw new AvatarApiException($"The provider started session {SessionId} without a room URL and token.");
        }

        var room = await connector.ConnectAsync(new Uri(url), token, cancellationToken).ConfigureAwait(false);
        Room = room;
        room.ConnectionStateChanged += (_, e) =>
        {
            // A room left behind by a renewal no longer speaks for the session.
            if (e.State == RoomConnectionState.Disconnected && ReferenceEquals(Room, room) && State is not (AvatarSessionState.Closing or AvatarSessionState.Closed))
            {
                OnRemoteEnded(e.Reason ?? "room disconnected");
            }
        };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            var track = anyParticipant
                ? await WaitForAnyAudioAsync(room, deadline.Token).ConfigureAwait(false)
                : await room.WaitForTrackAsync(AvatarIdentity, RoomTrackKind.Audio, deadline.Token).ConfigureAwait(false);
            AvatarIdentity = track.ParticipantIdentity;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The avatar did not join room '{room.Name}' within {timeout.TotalSeconds:0} s.");
        }
    }

    private static async Task<RoomTrack> WaitForAnyAudioAsync(IRealtimeRoom room, CancellationToken cancellationToken)
    {
        var found = new TaskCompletionSource<RoomTrack>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnTrack(object? sender, RoomTrackEventArgs e)
        {
            if (e.Track.Kind == RoomTrackKind.Audio)
            {
                found.TrySetResult(e.Track);
            }
        }

        room.TrackSubscribed += OnTrack;
        try
        {
            var existing = room.RemoteParticipants.SelectMany(p => p.Tracks).FirstOrDefault(t => t.Kind == RoomTrackKind.Audio);
            return existing ?? await found.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            room.TrackSubscribed -= OnTrack;
        }
    }

    /// <summary>Keeps the remote session from idling out.</summary>
    protected abstract Task KeepAliveAsync(CancellationToken cancellationToken);

    /// <summary>Stops the remote session; called once, also after failures; must be idempotent on the provider's side.</summary>
    protected abstract Task StopRemoteAsync(CancellationToken cancellationToken);

    /// <summary>Moves the session to a replacement remote session (renewal); the manager tracks it under the new id.</summary>
    protected void ReplaceSessionId(string sessionId)
    {
        var previous = SessionId;
        SessionId = sessionId;
        _manager.Rekey(this, previous);
    }

    /// <summary>Closes local transports (WebSocket, room) before the remote stop.</summary>
    protected virtual ValueTask CloseTransportsAsync() => ValueTask.CompletedTask;

    protected void ThrowIfClosed()
    {
        var state = State;
        if (state is AvatarSessionState.Closing or AvatarSessionState.Closed)
        {
            throw new InvalidOperationException(EndReason is null
                ? $"Avatar session {SessionId} is {state.ToString().ToLowerInvariant()}; start a new session."
                : $"Avatar session {SessionId} was ended by the provider ({EndReason}); start a new session.");
        }
    }

    protected bool SetState(AvatarSessionState next, string? reason = null)
    {
        AvatarSessionState previous;
        lock (_gate)
        {
            previous = _state;
            if (previous == next || previous == AvatarSessionState.Closed
                || (previous == AvatarSessionState.Closing && next != AvatarSessionState.Closed))
            {
                return false;
            }

            _state = next;
        }

        LogState(Logger, SessionId, previous, next, reason);
        StateChanged?.Invoke(this, new AvatarSessionStateChangedEventArgs(previous, next, reason));
        return true;
    }

    protected void OnSpeakingStarted(string utteranceId, string? text)
    {
        lock (_gate)
        {
            if (!_speaking.Add(utteranceId))
            {
                return;
            }
        }

        SetState(AvatarSessionState.Speaking);
        SpeakingStarted?.Invoke(this, new AvatarSpeechEventArgs(utteranceId, text, DateTimeOffset.UtcNow));
    }

    protected void OnSpeakingEnded(string utteranceId, string? text, bool interrupted)
    {
        bool idle;
        lock (_gate)
        {
            if (!_speaking.Remove(utteranceId))
            {
                return;
            }

            idle = _speaking.Count == 0;
        }

        // The state first, as for a start: a handler of SpeakingEnded (or code it releases) must not still see Speaking.
        if (idle)
        {
            SetState(AvatarSessionState.Listening);
        }

        SpeakingEnded?.Invoke(this, new AvatarSpeechEventArgs(utteranceId, text, DateTimeOffset.UtcNow) { Interrupted = interrupted });
    }

    /// <summary>Ends every utterance in flight as interrupted (the transport dropped).</summary>
    protected void EndAllSpeaking()
    {
        string[] ids;
        lock (_gate)
        {
            ids = [.. _speaking];
        }

        foreach (var id in ids)
        {
            OnSpeakingEnded(id, null, interrupted: true);
        }
    }

    /// <summary>The provider ended the session (max duration, idle, credits, dropped connection).</summary>
    protected void OnRemoteEnded(string reason)
    {
        EndReason ??= reason;
        LogRemoteEnded(Logger, SessionId, reason);
        EndAllSpeaking();
        _ = DisposeAsync().AsTask();
    }

    private async Task KeepAliveLoopAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    await KeepAliveAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is AvatarApiException or HttpRequestException or TimeoutException or System.Net.WebSockets.WebSocketException)
                {
                    LogKeepAliveFailed(Logger, SessionId, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task CloseAsync()
    {
        SetState(AvatarSessionState.Closing, EndReason);
        await _lifetime.CancelAsync().ConfigureAwait(false);
        await _keepAlive.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        try
        {
            await CloseTransportsAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Closing must go on to the remote stop whatever the transport does.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogCloseFailed(Logger, SessionId, "transport", ex.Message);
        }

        try
        {
            using var timeout = new CancellationTokenSource(_stopTimeout);
            await StopRemoteAsync(timeout.Token).ConfigureAwait(false);
            LogStopped(Logger, SessionId);
        }
#pragma warning disable CA1031 // Dispose never throws; the failure is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogCloseFailed(Logger, SessionId, "remote stop", ex.Message);
        }
        finally
        {
            _manager.Unregister(this);
            EndAllSpeaking();
            SetState(AvatarSessionState.Closed, EndReason);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Avatar session {SessionId}: {Previous} -> {Current} ({Reason}).")]
    private static partial void LogState(ILogger logger, string sessionId, AvatarSessionState previous, AvatarSessionState current, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Avatar session {SessionId}: keep-alive failed: {Error}")]
    private static partial void LogKeepAliveFailed(ILogger logger, string sessionId, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Avatar session {SessionId} was ended by the provider: {Reason}.")]
    private static partial void LogRemoteEnded(ILogger logger, string sessionId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Avatar session {SessionId} stopped.")]
    private static partial void LogStopped(ILogger logger, string sessionId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Avatar session {SessionId}: {Step} failed while closing: {Error}")]
    private static partial void LogCloseFailed(ILogger logger, string sessionId, string step, string error);
}
