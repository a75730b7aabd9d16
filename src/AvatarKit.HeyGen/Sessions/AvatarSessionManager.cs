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
