using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace AvatarKit.HeyGen;

/// <summary>
/// The sessions one service opened: enforces the concurrency limit (starting beyond it closes the
/// oldest), reclaims stale sessions once when asked, and stops every open session when the process
/// exits so that no remote session leaks.
/// </summary>
internal sealed partial class AvatarSessionManager : IDisposable
{
    private static readonly ConcurrentDictionary<AvatarSessionManager, byte> Managers = new();
    private static int s_hooked;

    private readonly ConcurrentDictionary<string, AvatarSessionBase> _open = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _startGate = new(1, 1);
    private readonly ILogger _logger;
    private readonly int _maxSessions;
    private bool _reclaimed;

    public AvatarSessionManager(int maxSessions, bool stopOnProcessExit, ILogger logger)
    {
        _maxSessions = maxSessions;
        _logger = logger;
        if (stopOnProcessExit)
        {
            Managers[this] = 0;
            HookProcessExit();
        }
    }

    public IReadOnlyCollection<AvatarSessionBase> OpenSessions => [.. _open.Values];

    public bool Owns(string sessionId) => _open.ContainsKey(sessionId);

    /// <summary>Makes room for one more session and runs the one-time reclaim; hold the returned lease until the session is registered.</summary>
    public async Task<IDisposable> BeginStartAsync(Func<CancellationToken, Task<int>>? reclaim, CancellationToken cancellationToken)
    {
        await _startGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (reclaim is not null && !_reclaimed)
            {
                var stopped = await reclaim(cancellationToken).ConfigureAwait(false);
                _reclaimed = true;
                LogReclaimed(_logger, stopped);
            }

            while (_open.Count >= _maxSessions)
            {
                var oldest = _open.Values.OrderBy(s => s.OpenedAt).First();
                LogClosingOldest(_logger, oldest.SessionId, _maxSessions);
                await oldest.DisposeAsync().ConfigureAwait(false);
                _open.TryRemove(oldest.SessionId, out _);
            }

            return new Lease(_startGate);
        }
        catch
        {
            _startGate.Release();
            throw;
        }
    }

    /// <summary>
    /// Rewrites a provider's session-limit error to name the account's active sessions this process did not open
    /// and say how to reclaim them; the original error when the provider cannot list them or there are none.
    /// </summary>
    /// <param name="limit">The provider's refusal.</param>
    /// <param name="provider">The provider's name, for the message.</param>
    /// <param name="listActive">Lists the account's active sessions.</param>
    /// <param name="reclaimSetting">The configuration key that turns reclaiming on.</param>
    /// <param name="cancellationToken">Cancels listing.</param>
    /// <returns>The error to throw.</returns>
    public async Task<AvatarSessionLimitException> ExplainLimitAsync(
        AvatarSessionLimitException limit,
        string provider,
        Func<CancellationToken, Task<IReadOnlyList<AvatarSessionInfo>>> listActive,
        string reclaimSetting,
        CancellationToken cancellationToken)
    {
        List<AvatarSessionInfo> others;
        try
        {
            others = [.. (await listActive(cancellationToken).ConfigureAwait(false)).Where(s => !Owns(s.SessionId))];
        }
#pragma warning disable CA1031 // The refusal is what the caller must see; failing to explain it is only logged.
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            LogListFailed(_logger, ex.Message);
            return limit;
        }

        if (others.Count == 0)
        {
            return limit;
        }

        var now = DateTimeOffset.UtcNow;
        var sessions = string.Join(", ", others.Select(s => s.CreatedAt is { } at
            ? $"{s.SessionId} (opened {Math.Max(0, (now - at).TotalMinutes):0.#} min ago)"
            : s.SessionId));
        var message =
            $"{provider} refused a new session (HTTP {(int?)limit.StatusCode}): {limit.ProviderMessage ?? "session limit reached"}. " +
            $"The account has {others.Count} active session(s) this process did not open: {sessions}. " +
            $"If a crashed or killed process left them open, set ReclaimStaleSessions ({reclaimSetting}=true) so that the next start stops them, " +
            "or stop them now with IAvatarService.CloseAllSessionsAsync(); if another running process uses them, close it or raise the plan's concurrency limit.";
        return new AvatarSessionLimitException(message, limit.StatusCode, limit.ProviderCode, limit.ProviderMessage, limit.RequestId)
        {
            RetryAfter = limit.RetryAfter,
            OtherActiveSessionIds = [.. others.Select(s => s.SessionId)],
        };
    }

    /// <summary>Stops every open session (the owning service is being disposed).</summary>
    public async Task CloseAllAsync()
    {
        foreach (var session in _open.Values)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        Managers.TryRemove(this, out _);
        _startGate.Dispose();
    }

    public void Register(AvatarSessionBase session) => _open[session.SessionId] = session;

    public void Rekey(AvatarSessionBase session, string previousId)
    {
        _open.TryRemove(new KeyValuePair<string, AvatarSessionBase>(previousId, session));
        _open[session.SessionId] = session;
    }

    public void Unregister(AvatarSessionBase session) => _open.TryRemove(new KeyValuePair<string, AvatarSessionBase>(session.SessionId, session));

    /// <summary>Stops every open session synchronously: the process is going away and cannot await.</summary>
    private void StopAllForExit()
    {
        var sessions = _open.Values.ToArray();
        if (sessions.Length == 0)
        {
            return;
        }

        LogStoppingOnExit(_logger, sessions.Length);
        var stops = sessions.Select(s => s.DisposeAsync().AsTask()).ToArray();
        Task.WaitAll(stops, TimeSpan.FromSeconds(10));
    }

    private static void HookProcessExit()
    {
        if (Interlocked.Exchange(ref s_hooked, 1) != 0)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) => StopEverything();
        AppDomain.CurrentDomain.UnhandledException += (_, _) => StopEverything();

        // SIGINT/SIGTERM: stop sessions first, then let the default handling terminate the process.
        s_signals = [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => StopEverything()),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => StopEverything()),
        ];
    }

    private static PosixSignalRegistration[]? s_signals;

    internal static void StopEverything()
    {
        foreach (var manager in Managers.Keys)
        {
            try
            {
                manager.StopAllForExit();
            }
#pragma warning disable CA1031 // Nothing may escape a process-exit handler.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reclaimed {Count} stale avatar session(s) left by another process.")]
    private static partial void LogReclaimed(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The account's active avatar sessions could not be listed to explain a session-limit error: {Error}")]
    private static partial void LogListFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Closing avatar session {SessionId}: at most {Max} session(s) may be open.")]
    private static partial void LogClosingOldest(ILogger logger, string sessionId, int max);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The process is exiting: stopping {Count} open avatar session(s).")]
    private static partial void LogStoppingOnExit(ILogger logger, int count);

    private sealed class Lease(SemaphoreSlim gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Release();
            }
        }
    }
}
