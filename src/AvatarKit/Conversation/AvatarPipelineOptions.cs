using Microsoft.Extensions.AI;

namespace AvatarKit;

/// <summary>
/// Settings of an <see cref="AvatarPipeline"/>. Bound from the <c>AvatarKit:Pipeline</c>
/// configuration section (and <c>AVATARKIT_SYSTEM_PROMPT</c>) when registered through DI;
/// validated when the pipeline is built.
/// </summary>
public sealed class AvatarPipelineOptions
{
    /// <summary>The system prompt used when none is set.</summary>
    public const string DefaultSystemPrompt =
        "You are a friendly, helpful assistant shown as a talking avatar. Answer in short, natural spoken sentences without markdown, lists or emojis.";

    /// <summary>Gets or sets the system prompt sent with every request.</summary>
    public string? SystemPrompt { get; set; } = DefaultSystemPrompt;

    /// <summary>Gets or sets how many user and assistant messages the history keeps (oldest dropped first); 2 to 1000, default 20.</summary>
    public int MaxHistoryMessages { get; set; } = 20;

    /// <summary>
    /// Gets or sets how long after the last final transcript a turn ends when the speech-to-text
    /// client sends no end-of-turn signal (see <see cref="SpeechTurnSignals"/>); 100 ms to 10 s, default 800 ms.
    /// </summary>
    public TimeSpan SilenceTimeout { get; set; } = TimeSpan.FromMilliseconds(800);

    /// <summary>Gets or sets a value indicating whether user speech interrupts the avatar's answer (barge-in); default true.</summary>
    public bool BargeIn { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether voice input is used when an audio input and a speech-to-text client are set; default true.</summary>
    public bool VoiceInput { get; set; } = true;

    /// <summary>Gets or sets the format audio is captured in and streamed to the speech-to-text client; PCM16 16 kHz mono by default.</summary>
    public AudioFormat InputFormat { get; set; } = AudioFormat.Pcm16Mono16kHz;

    /// <summary>
    /// Gets or sets how long, once the answer has been handed over, the pipeline waits for the avatar
    /// to stop speaking when the provider reports no per-utterance end; 1 s to 5 min, default 5 s.
    /// </summary>
    public TimeSpan SpeakingIdleTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how many times in a row the speech-to-text stream may fail before voice input stops; 0 to 100, default 5.</summary>
    public int MaxSpeechToTextRetries { get; set; } = 5;

    /// <summary>Gets or sets the length after which a sentence without punctuation is split; 20 to 4000, default 400.</summary>
    public int MaxSentenceLength { get; set; } = 400;

    /// <summary>Gets or sets the avatar session's settings, when the pipeline starts the session itself.</summary>
    public AvatarSessionOptions? Session { get; set; }

    /// <summary>Gets or sets chat options passed on every request (model, temperature…).</summary>
    public ChatOptions? ChatOptions { get; set; }

    /// <summary>Gets or sets a value indicating whether the session is recorded when a recorder is set; default true.</summary>
    public bool Recording { get; set; } = true;

    /// <summary>
    /// Gets or sets how long stopping the pipeline waits for the recording to be finalized (the session file closed and
    /// the per-answer clips cut); more than 0 up to 24 h, default 30 s. When it runs out, the clips not cut yet are listed
    /// as uncut in the session's sidecar (the Recording package can cut them later). Raise it when several recorded
    /// conversations share few cores and their clips queue up.
    /// </summary>
    public TimeSpan RecordingFinalizeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Returns one message per invalid setting, naming it and the allowed range.</summary>
    /// <returns>The problems; empty when the options are valid.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxHistoryMessages is < 2 or > 1000)
        {
            errors.Add($"MaxHistoryMessages is {MaxHistoryMessages}; use 2 to 1000 (AvatarKit:Pipeline:MaxHistoryMessages).");
        }

        if (SilenceTimeout < TimeSpan.FromMilliseconds(100) || SilenceTimeout > TimeSpan.FromSeconds(10))
        {
            errors.Add($"SilenceTimeout is {SilenceTimeout.TotalMilliseconds} ms; use 100 ms to 10 s (AvatarKit:Pipeline:SilenceTimeout).");
        }

        if (SpeakingIdleTimeout < TimeSpan.FromSeconds(1) || SpeakingIdleTimeout > TimeSpan.FromMinutes(5))
        {
            errors.Add($"SpeakingIdleTimeout is {SpeakingIdleTimeout.TotalSeconds} s; use 1 s to 5 min (AvatarKit:Pipeline:SpeakingIdleTimeout).");
        }

        if (MaxSpeechToTextRetries is < 0 or > 100)
        {
            errors.Add($"MaxSpeechToTextRetries is {MaxSpeechToTextRetries}; use 0 to 100 (AvatarKit:Pipeline:MaxSpeechToTextRetries).");
        }

        if (MaxSentenceLength is < 20 or > 4000)
        {
            errors.Add($"MaxSentenceLength is {MaxSentenceLength}; use 20 to 4000 (AvatarKit:Pipeline:MaxSentenceLength).");
        }

        if (RecordingFinalizeTimeout <= TimeSpan.Zero || RecordingFinalizeTimeout > TimeSpan.FromHours(24))
        {
            errors.Add($"RecordingFinalizeTimeout is {RecordingFinalizeTimeout.TotalSeconds} s; use more than 0 up to 24 h (AvatarKit:Pipeline:RecordingFinalizeTimeout).");
        }

        if (InputFormat.SampleRate is < 8000 or > 48000 || InputFormat.Channels != 1)
        {
            errors.Add($"InputFormat is {InputFormat}; use mono PCM16 at 8 to 48 kHz (AvatarKit:Pipeline:InputFormat).");
        }

        return errors;
    }
}
