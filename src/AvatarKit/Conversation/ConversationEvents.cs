namespace AvatarKit;

/// <summary>Something that happened in a conversation; read them with <see cref="AvatarPipeline.ReadEventsAsync"/>.</summary>
public abstract record ConversationEvent
{
    /// <summary>Gets when it happened.</summary>
    public DateTimeOffset Timestamp { get; init; } = DateTimeOffset.UtcNow;

    /// <summary>Gets the turn it belongs to (1, 2, …), or <see langword="null"/> when it belongs to none.</summary>
    public int? TurnId { get; init; }
}

/// <summary>The avatar session is ready and the conversation can start.</summary>
/// <param name="SessionId">The avatar session's id.</param>
/// <param name="RecordingPath">The whole-session recording file, when recording.</param>
public sealed record ConversationStartedEvent(string SessionId, string? RecordingPath) : ConversationEvent;

/// <summary>The user started speaking (the speech-to-text client's speech-start signal, or its first words).</summary>
public sealed record UserSpeechStartedEvent : ConversationEvent;

/// <summary>A transcript of the user's speech as it forms.</summary>
/// <param name="Text">The text of the utterance so far (partial) or of a finished segment (final).</param>
/// <param name="IsFinal">Whether the text is final and will not change.</param>
public sealed record TranscriptEvent(string Text, bool IsFinal) : ConversationEvent;

/// <summary>A user turn was committed and is being answered.</summary>
/// <param name="Text">What the user said or typed.</param>
/// <param name="Source">Voice or text.</param>
public sealed record UserTurnEvent(string Text, ConversationInputSource Source) : ConversationEvent;

/// <summary>A piece of the answer as the chat client streams it.</summary>
/// <param name="Delta">The new text.</param>
public sealed record AnswerTextEvent(string Delta) : ConversationEvent;

/// <summary>A complete sentence of the answer was handed to the avatar.</summary>
/// <param name="Sentence">The sentence.</param>
/// <param name="Index">Its index in the answer, from 0.</param>
public sealed record AnswerSentenceEvent(string Sentence, int Index) : ConversationEvent;

/// <summary>The avatar started speaking an utterance.</summary>
/// <param name="Text">The utterance's text, when the provider says.</param>
public sealed record AvatarSpeakingStartedEvent(string? Text) : ConversationEvent;

/// <summary>The avatar finished, or was cut short in, an utterance.</summary>
/// <param name="Text">The utterance's text, when the provider says.</param>
/// <param name="Interrupted">Whether it was cut short.</param>
public sealed record AvatarSpeakingEndedEvent(string? Text, bool Interrupted) : ConversationEvent;

/// <summary>The answer was interrupted: the avatar was stopped and the rest of the answer dropped.</summary>
/// <param name="Reason">Barge-in or command.</param>
/// <param name="SpokenText">What the avatar had said of the answer, which is all the history keeps.</param>
/// <param name="Latency">From the trigger (user speech start or command) to the interrupt being sent.</param>
public sealed record InterruptedEvent(InterruptReason Reason, string SpokenText, TimeSpan Latency) : ConversationEvent;

/// <summary>A turn finished: answered, interrupted or failed.</summary>
/// <param name="Result">The turn's outcome, texts and latencies.</param>
public sealed record TurnCompletedEvent(ConversationTurnResult Result) : ConversationEvent;

/// <summary>A stage failed. The conversation goes on when <see cref="Recoverable"/> is true; otherwise it stops.</summary>
/// <param name="Stage">The stage that failed.</param>
/// <param name="Message">What failed, in words.</param>
/// <param name="Exception">The exception, when there is one.</param>
/// <param name="Recoverable">Whether the conversation goes on.</param>
public sealed record ConversationErrorEvent(ConversationStage Stage, string Message, Exception? Exception, bool Recoverable) : ConversationEvent;

/// <summary>The conversation stopped; no further events follow.</summary>
/// <param name="Reason">Why it stopped, in words.</param>
/// <param name="Recording">The recording's files, when recording.</param>
public sealed record ConversationStoppedEvent(string Reason, SessionRecordingResult? Recording) : ConversationEvent;

/// <summary>Where a user turn came from.</summary>
public enum ConversationInputSource
{
    /// <summary>Typed or sent by code.</summary>
    Text,

    /// <summary>Spoken and transcribed.</summary>
    Voice,
}

/// <summary>Why an answer was interrupted.</summary>
public enum InterruptReason
{
    /// <summary>The user started speaking while the avatar answered.</summary>
    BargeIn,

    /// <summary><see cref="AvatarPipeline.InterruptAsync"/> was called (e.g. the <c>/interrupt</c> command).</summary>
    Command,
}

/// <summary>The stages of the conversation pipeline, as named in errors and metrics.</summary>
public enum ConversationStage
{
    /// <summary>Audio capture.</summary>
    AudioInput,

    /// <summary>Speech-to-text and turn detection.</summary>
    SpeechToText,

    /// <summary>The chat client (LLM).</summary>
    Chat,

    /// <summary>The avatar session.</summary>
    Avatar,

    /// <summary>The session recorder.</summary>
    Recording,
}

/// <summary>How a turn ended.</summary>
public enum TurnOutcome
{
    /// <summary>The whole answer was spoken.</summary>
    Completed,

    /// <summary>The answer was interrupted; only what was said is kept.</summary>
    Interrupted,

    /// <summary>A stage failed; see <see cref="ConversationTurnResult.Error"/>.</summary>
    Failed,
}

/// <summary>The outcome of one conversation turn.</summary>
/// <param name="TurnId">The turn's number, from 1.</param>
/// <param name="UserText">What the user said or typed.</param>
/// <param name="AnswerText">What the chat client answered (up to where it was stopped).</param>
/// <param name="SpokenText">What the avatar said of the answer.</param>
/// <param name="Outcome">Completed, interrupted or failed.</param>
/// <param name="Metrics">The turn's per-stage latencies.</param>
public sealed record ConversationTurnResult(int TurnId, string UserText, string AnswerText, string SpokenText, TurnOutcome Outcome, ConversationTurnMetrics Metrics)
{
    /// <summary>Gets what failed, when <see cref="Outcome"/> is <see cref="TurnOutcome.Failed"/>.</summary>
    public string? Error { get; init; }

    /// <summary>Gets the clip recorded for this answer, when recording.</summary>
    public RecordedClip? Clip { get; init; }
}

/// <summary>
/// Per-stage latencies of a turn; a stage the turn did not reach is <see langword="null"/>.
/// The stages follow each other: end of user speech → final transcript → first token → first
/// sentence sent → avatar speaking.
/// </summary>
public sealed record ConversationTurnMetrics
{
    /// <summary>Gets the time from the end of the user's speech to the committed transcript (voice turns only).</summary>
    public TimeSpan? EndOfSpeechToTranscript { get; init; }

    /// <summary>Gets the time from the committed user turn to the chat client's first token.</summary>
    public TimeSpan? TranscriptToFirstToken { get; init; }

    /// <summary>Gets the time from the first token to the first complete sentence being accepted by the avatar.</summary>
    public TimeSpan? FirstTokenToFirstSentence { get; init; }

    /// <summary>Gets the time from the first sentence being accepted to the avatar speaking.</summary>
    public TimeSpan? FirstSentenceToSpeaking { get; init; }

    /// <summary>Gets the time from the end of the user's speech (or the text being sent) to the avatar speaking.</summary>
    public TimeSpan? ToFirstSpeech { get; init; }

    /// <summary>Gets the time the pipeline's own code took on the way to the first sentence (everything but waiting for providers).</summary>
    public TimeSpan? PipelineOverhead { get; init; }

    /// <summary>Gets how long the chat client streamed the answer.</summary>
    public TimeSpan? AnswerDuration { get; init; }

    /// <summary>Gets the time from the barge-in or command to the interrupt being sent, for interrupted turns.</summary>
    public TimeSpan? InterruptLatency { get; init; }
}
