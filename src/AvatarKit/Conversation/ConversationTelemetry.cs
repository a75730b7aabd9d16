using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace AvatarKit;

/// <summary>The <see cref="Meter"/> and <see cref="ActivitySource"/> named <c>AvatarKit</c> the pipeline reports through.</summary>
internal static class ConversationTelemetry
{
    public const string Name = "AvatarKit";

    public static readonly ActivitySource ActivitySource = new(Name);

    public static readonly Meter Meter = new(Name);

    public static readonly Histogram<double> EndOfSpeechToTranscript = Meter.CreateHistogram<double>(
        "avatarkit.turn.end_of_speech_to_transcript", "ms", "End of user speech to committed transcript.");

    public static readonly Histogram<double> TimeToFirstToken = Meter.CreateHistogram<double>(
        "avatarkit.turn.time_to_first_token", "ms", "Committed user turn to the chat client's first token.");

    public static readonly Histogram<double> FirstTokenToFirstSentence = Meter.CreateHistogram<double>(
        "avatarkit.turn.first_token_to_first_sentence", "ms", "First token to the first sentence accepted by the avatar.");

    public static readonly Histogram<double> FirstSentenceToSpeaking = Meter.CreateHistogram<double>(
        "avatarkit.turn.first_sentence_to_speaking", "ms", "First sentence accepted to the avatar speaking.");

    public static readonly Histogram<double> ToFirstSpeech = Meter.CreateHistogram<double>(
        "avatarkit.turn.to_first_speech", "ms", "End of user speech (or text sent) to the avatar speaking.");

    public static readonly Histogram<double> PipelineOverhead = Meter.CreateHistogram<double>(
        "avatarkit.turn.pipeline_overhead", "ms", "Time spent in the pipeline's own code on the way to the first sentence.");

    public static readonly Histogram<double> InterruptLatency = Meter.CreateHistogram<double>(
        "avatarkit.interrupt.latency", "ms", "Barge-in or command to the interrupt being sent.");

    public static readonly Counter<long> Turns = Meter.CreateCounter<long>("avatarkit.turns", "{turn}", "Conversation turns by outcome.");

    public static readonly Counter<long> Errors = Meter.CreateCounter<long>("avatarkit.errors", "{error}", "Stage failures by stage.");

    public static void Record(ConversationTurnMetrics metrics, TurnOutcome outcome)
    {
        var tag = new KeyValuePair<string, object?>("avatarkit.turn.outcome", outcome.ToString());
        Record(EndOfSpeechToTranscript, metrics.EndOfSpeechToTranscript, tag);
        Record(TimeToFirstToken, metrics.TranscriptToFirstToken, tag);
        Record(FirstTokenToFirstSentence, metrics.FirstTokenToFirstSentence, tag);
        Record(FirstSentenceToSpeaking, metrics.FirstSentenceToSpeaking, tag);
        Record(ToFirstSpeech, metrics.ToFirstSpeech, tag);
        Record(PipelineOverhead, metrics.PipelineOverhead, tag);
        Turns.Add(1, tag);
    }

    private static void Record(Histogram<double> histogram, TimeSpan? value, KeyValuePair<string, object?> tag)
    {
        if (value is { } v)
        {
            histogram.Record(v.TotalMilliseconds, tag);
        }
    }
}
