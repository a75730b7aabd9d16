using Microsoft.Extensions.AI;

namespace AvatarKit.Speech.Deepgram;

/// <summary>
/// The update kinds <see cref="DeepgramSpeechToTextClient"/> adds to M.E.AI's: turn signals a
/// pipeline may use (a plain M.E.AI client produces none of them, and a pipeline still works).
/// </summary>
/// <remarks>
/// Besides these, interim results arrive as <see cref="SpeechToTextResponseUpdateKind.TextUpdating"/>,
/// final results as <see cref="SpeechToTextResponseUpdateKind.TextUpdated"/> (with
/// <see cref="DeepgramSpeechProperties.SpeechFinal"/> when the speaker finished), the connection as
/// <see cref="SpeechToTextResponseUpdateKind.SessionOpen"/> and Deepgram's closing metadata as
/// <see cref="SpeechToTextResponseUpdateKind.SessionClose"/>.
/// </remarks>
public static class DeepgramSpeechUpdateKinds
{
    /// <summary>Gets the kind of Deepgram's <c>SpeechStarted</c> event: voice activity began at <see cref="SpeechToTextResponseUpdate.StartTime"/>.</summary>
    public static SpeechToTextResponseUpdateKind SpeechStarted { get; } = new("deepgram.speech_started");

    /// <summary>Gets the kind of Deepgram's <c>UtteranceEnd</c> event: no word followed the one ending at <see cref="SpeechToTextResponseUpdate.EndTime"/>.</summary>
    public static SpeechToTextResponseUpdateKind UtteranceEnd { get; } = new("deepgram.utterance_end");
}

/// <summary>Keys of the <see cref="SpeechToTextResponseUpdate.AdditionalProperties"/> that <see cref="DeepgramSpeechToTextClient"/> sets.</summary>
public static class DeepgramSpeechProperties
{
    /// <summary><see cref="bool"/>: the result is final (its text will not change).</summary>
    public const string IsFinal = "deepgram.is_final";

    /// <summary><see cref="bool"/>: endpointing detected the end of speech; the user's turn is likely over.</summary>
    public const string SpeechFinal = "deepgram.speech_final";

    /// <summary><see cref="bool"/>: the result answers a <c>Finalize</c> request.</summary>
    public const string FromFinalize = "deepgram.from_finalize";

    /// <summary><see cref="IReadOnlyList{T}"/> of <see cref="DeepgramWord"/>: the words with times on the stream's clock.</summary>
    public const string Words = "deepgram.words";

    /// <summary><see cref="double"/>: the confidence of the transcript, 0 to 1.</summary>
    public const string Confidence = "deepgram.confidence";

    /// <summary><see cref="string"/>: Deepgram's request id of the connection that produced the update.</summary>
    public const string RequestId = "deepgram.request_id";

    /// <summary><see cref="int"/>: how many times the live connection was re-established so far.</summary>
    public const string Reconnects = "deepgram.reconnects";
}

/// <summary>A recognized word with its times on the stream's clock (monotonic across reconnects).</summary>
/// <param name="Word">The word as recognized (lower case, no punctuation).</param>
/// <param name="PunctuatedWord">The word with punctuation and capitals, when asked for; else <paramref name="Word"/>.</param>
/// <param name="Start">When the word starts.</param>
/// <param name="End">When the word ends.</param>
/// <param name="Confidence">The confidence, 0 to 1.</param>
/// <param name="Speaker">The speaker, when diarization was asked for.</param>
public sealed record DeepgramWord(string Word, string PunctuatedWord, TimeSpan Start, TimeSpan End, double Confidence, int? Speaker = null);
