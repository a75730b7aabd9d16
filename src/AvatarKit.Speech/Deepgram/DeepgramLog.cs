using Microsoft.Extensions.Logging;

namespace AvatarKit.Speech.Deepgram;

/// <summary>Source-generated log messages of the Deepgram clients. Nothing here ever includes the API key.</summary>
internal static partial class DeepgramLog
{
    [LoggerMessage(1, LogLevel.Debug, "Deepgram listen connected to {Host} (request {RequestId})")]
    public static partial void Connected(ILogger logger, string host, string? requestId);

    [LoggerMessage(2, LogLevel.Warning, "Deepgram listen connection lost ({Reason}); reconnecting and re-sending {Seconds:F2} s of unfinalized audio")]
    public static partial void Reconnecting(ILogger logger, string reason, double seconds);

    [LoggerMessage(3, LogLevel.Information, "Deepgram listen reconnected after {Milliseconds:F0} ms (attempt {Attempt})")]
    public static partial void Reconnected(ILogger logger, double milliseconds, int attempt);

    [LoggerMessage(4, LogLevel.Warning, "Ignored a malformed Deepgram message of {Length} bytes: {Problem}")]
    public static partial void Malformed(ILogger logger, int length, string? problem);

    [LoggerMessage(5, LogLevel.Warning, "Deepgram handshake refused ({Status}); retrying in {Delay} ms")]
    public static partial void HandshakeRetry(ILogger logger, int status, double delay);

    [LoggerMessage(6, LogLevel.Debug, "Deepgram listen closed with {Code} {Reason}")]
    public static partial void Closed(ILogger logger, int code, string? reason);

    [LoggerMessage(7, LogLevel.Warning, "Deepgram speak warning {Code}: {Description}")]
    public static partial void SpeakWarning(ILogger logger, string? code, string? description);
}
