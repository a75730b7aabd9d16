using Microsoft.Extensions.Logging;

namespace AvatarKit.Recording;

/// <summary>The recorder's log messages.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Recording session {SessionId} to {FilePath}")]
    public static partial void RecordingStarted(ILogger logger, string sessionId, string filePath);

    [LoggerMessage(2, LogLevel.Debug, "ffmpeg {ProcessId} started for {FilePath}")]
    public static partial void EncoderStarted(ILogger logger, int processId, string filePath);

    [LoggerMessage(3, LogLevel.Warning, "ffmpeg {ProcessId}: {Line}")]
    public static partial void EncoderMessage(ILogger logger, int processId, string line);

    [LoggerMessage(4, LogLevel.Warning, "ffmpeg {ProcessId} did not finish within {Timeout}; killed it (the file stays playable)")]
    public static partial void EncoderKilledOnClose(ILogger logger, int processId, TimeSpan timeout);

    [LoggerMessage(5, LogLevel.Error, "Writing the recording file {FilePath} failed")]
    public static partial void OutputWriteFailed(ILogger logger, Exception exception, string filePath);

    [LoggerMessage(6, LogLevel.Error, "The encoder of session {SessionId} failed at {MediaTime}; restarting into a new segment {FilePath}")]
    public static partial void EncoderRestarting(ILogger logger, Exception exception, string sessionId, TimeSpan mediaTime, string filePath);

    [LoggerMessage(7, LogLevel.Error, "Recording of session {SessionId} stopped at {MediaTime}; the conversation goes on")]
    public static partial void RecordingStopped(ILogger logger, Exception exception, string sessionId, TimeSpan mediaTime);

    [LoggerMessage(8, LogLevel.Information, "Recorded session {SessionId}: {Duration}, {Clips} clips, {Dropped} video frames dropped")]
    public static partial void RecordingCompleted(ILogger logger, string sessionId, TimeSpan duration, int clips, long dropped);

    [LoggerMessage(9, LogLevel.Debug, "Re-anchored a {Source} source of session {SessionId} by {Shift} (late or discontinuous timestamps)")]
    public static partial void SourceReanchored(ILogger logger, string source, string sessionId, TimeSpan shift);

    [LoggerMessage(10, LogLevel.Warning, "Cutting a clip of session {SessionId} failed")]
    public static partial void ClipFailed(ILogger logger, Exception exception, string sessionId);

    [LoggerMessage(11, LogLevel.Warning, "Reading the {Kind} source of session {SessionId} failed")]
    public static partial void SourceFailed(ILogger logger, Exception exception, string kind, string sessionId);

    [LoggerMessage(12, LogLevel.Warning, "Writing the sidecar {FilePath} failed")]
    public static partial void SidecarFailed(ILogger logger, Exception exception, string filePath);

    [LoggerMessage(13, LogLevel.Warning, "Completing session {SessionId} was cancelled; {Pending} clips were not cut")]
    public static partial void ClipsAbandoned(ILogger logger, string sessionId, int pending);
}
