using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AvatarKit;

/// <summary>
/// The convention by which a streaming <see cref="ISpeechToTextClient"/> tells the pipeline where
/// the user's turns begin and end, on top of Microsoft.Extensions.AI's plain updates.
/// </summary>
/// <remarks>
/// <para>A client that follows it gives faster, more exact turns:</para>
/// <list type="bullet">
/// <item>an update of kind <see cref="SpeechStarted"/> when voice activity starts (triggers barge-in);</item>
/// <item>kind and property names may carry a provider prefix: <c>deepgram.speech_started</c>,
/// <c>deepgram.utterance_end</c> and <c>deepgram.speech_final</c> are understood;</item>
/// <item><see cref="SpeechToTextResponseUpdateKind.TextUpdating"/> for interim text,
/// <see cref="SpeechToTextResponseUpdateKind.TextUpdated"/> for each final segment;</item>
/// <item><see cref="SpeechFinalProperty"/> = <see langword="true"/> in a final segment's
/// <c>AdditionalProperties</c> when the speaker paused (end of turn), and/or an update of kind
/// <see cref="UtteranceEnd"/> after the last word of an utterance (end of turn).</item>
/// </list>
/// <para>
/// A plain client needs none of it: its first interim or final text counts as speech start, and a
/// turn ends <see cref="AvatarPipelineOptions.SilenceTimeout"/> after the last final segment when no
/// further text arrives. The audio the pipeline streams to the client is raw PCM16 little-endian
/// at <see cref="SpeechToTextOptions.SpeechSampleRate"/> (mono), without a WAV header.
/// </para>
/// </remarks>
public static class SpeechTurnSignals
{
    /// <summary>The update kind for "voice activity started" (Deepgram's <c>SpeechStarted</c>).</summary>
    public static SpeechToTextResponseUpdateKind SpeechStarted { get; } = new("speech_started");

    /// <summary>The update kind for "the utterance ended" (Deepgram's <c>UtteranceEnd</c>).</summary>
    public static SpeechToTextResponseUpdateKind UtteranceEnd { get; } = new("utterance_end");

    /// <summary>The <c>AdditionalProperties</c> key of a final segment that ends the speaker's turn (Deepgram's <c>speech_final</c>).</summary>
    public const string SpeechFinalProperty = "speech_final";

    /// <summary>Gets a value indicating whether <paramref name="update"/> says voice activity started.</summary>
    /// <param name="update">The update.</param>
    /// <returns><see langword="true"/> for a speech-start signal.</returns>
    public static bool IsSpeechStarted(SpeechToTextResponseUpdate update) => IsKind(update, SpeechStarted.Value);

    /// <summary>Gets a value indicating whether <paramref name="update"/> says the utterance ended.</summary>
    /// <param name="update">The update.</param>
    /// <returns><see langword="true"/> for an utterance-end signal.</returns>
    public static bool IsUtteranceEnd(SpeechToTextResponseUpdate update) => IsKind(update, UtteranceEnd.Value);

    /// <summary>Gets a value indicating whether a final segment ends the speaker's turn.</summary>
    /// <param name="update">The update.</param>
    /// <returns><see langword="true"/> when <see cref="SpeechFinalProperty"/> (or a provider-prefixed form of it) is true.</returns>
    public static bool IsSpeechFinal(SpeechToTextResponseUpdate update)
    {
        if (update?.AdditionalProperties is not { } properties)
        {
            return false;
        }

        foreach (var (key, value) in properties)
        {
            if (IsName(key, SpeechFinalProperty) && value switch
            {
                bool b => b,
                string s => bool.TryParse(s, out var parsed) && parsed,
                JsonElement { ValueKind: JsonValueKind.True } => true,
                _ => false,
            })
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsKind(SpeechToTextResponseUpdate update, string name) => update is not null && IsName(update.Kind.Value, name);

    // "speech_started", or a provider-prefixed "deepgram.speech_started"; Deepgram's own spelling "SpeechStarted" too.
    private static bool IsName(string? value, string name) =>
        value is not null
        && (value.EndsWith(name, StringComparison.OrdinalIgnoreCase) && (value.Length == name.Length || value[^(name.Length + 1)] == '.')
            || string.Equals(value.Replace("_", string.Empty, StringComparison.Ordinal), name.Replace("_", string.Empty, StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase));
}
