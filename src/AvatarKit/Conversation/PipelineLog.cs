using Microsoft.Extensions.Logging;

namespace AvatarKit;

/// <summary>The pipeline's log messages; content (what was said) only at Trace.</summary>
internal static partial class PipelineLog
{
    [LoggerMessage(1, LogLevel.Information, "Conversation started on avatar session {SessionId}.")]
    public static partial void Started(ILogger logger, string sessionId);

    [LoggerMessage(2, LogLevel.Information, "Turn {TurnId} ({Source}) ended: {Outcome}; first speech after {FirstSpeechMs} ms.")]
    public static partial void TurnEnded(ILogger logger, int turnId, ConversationInputSource source, TurnOutcome outcome, double? firstSpeechMs);

    [LoggerMessage(3, LogLevel.Warning, "{Stage} failed (recoverable: {Recoverable}): {Message}")]
    public static partial void StageFailed(ILogger logger, ConversationStage stage, bool recoverable, string message, Exception? exception);

    [LoggerMessage(4, LogLevel.Information, "Turn {TurnId} interrupted ({Reason}) in {LatencyMs} ms.")]
    public static partial void Interrupted(ILogger logger, int? turnId, InterruptReason reason, double latencyMs);

    [LoggerMessage(5, LogLevel.Information, "Conversation stopped: {Reason}")]
    public static partial void Stopped(ILogger logger, string reason);

    [LoggerMessage(6, LogLevel.Trace, "Turn {TurnId} user: {UserText} | avatar said: {SpokenText}")]
    public static partial void TurnContent(ILogger logger, int turnId, string userText, string spokenText);

    [LoggerMessage(7, LogLevel.Information, "Voice input started from {InputName}.")]
    public static partial void VoiceStarted(ILogger logger, string inputName);

    [LoggerMessage(8, LogLevel.Information, "Voice input ended.")]
    public static partial void VoiceEnded(ILogger logger);
}
