using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace AvatarKit;

/// <summary>The log messages of <see cref="LoggingAvatarService"/>; what the avatar says only at Trace.</summary>
internal static partial class AvatarLog
{
    public static async Task<T> CallAsync<T>(ILogger logger, string operation, Func<Task<T>> call)
    {
        var started = Stopwatch.GetTimestamp();
        Invoked(logger, operation);
        try
        {
            var result = await call().ConfigureAwait(false);
            Completed(logger, operation, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return result;
        }
        catch (OperationCanceledException)
        {
            Canceled(logger, operation);
            throw;
        }
        catch (Exception ex)
        {
            Failed(logger, operation, ex);
            throw;
        }
    }

    [LoggerMessage(LogLevel.Debug, "{Operation} invoked.")]
    private static partial void Invoked(ILogger logger, string operation);

    [LoggerMessage(LogLevel.Debug, "{Operation} completed in {ElapsedMs} ms.")]
    private static partial void Completed(ILogger logger, string operation, double elapsedMs);

    [LoggerMessage(LogLevel.Debug, "{Operation} canceled.")]
    private static partial void Canceled(ILogger logger, string operation);

    [LoggerMessage(LogLevel.Error, "{Operation} failed.")]
    private static partial void Failed(ILogger logger, string operation, Exception exception);

    [LoggerMessage(LogLevel.Debug, "Avatar session {SessionId} started (avatar {AvatarId}).")]
    public static partial void SessionStarted(ILogger logger, string sessionId, string? avatarId);

    [LoggerMessage(LogLevel.Debug, "Avatar session {SessionId} stopping.")]
    public static partial void SessionStopping(ILogger logger, string sessionId);

    [LoggerMessage(LogLevel.Debug, "Avatar session {SessionId}: {Previous} -> {Current} ({Reason}).")]
    public static partial void StateChanged(ILogger logger, string sessionId, AvatarSessionState previous, AvatarSessionState current, string? reason);

    [LoggerMessage(LogLevel.Trace, "Avatar session {SessionId} speaks: {Text}")]
    public static partial void SpeakText(ILogger logger, string sessionId, string text);
}
