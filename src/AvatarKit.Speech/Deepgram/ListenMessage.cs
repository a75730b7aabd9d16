using System.Text.Json;

namespace AvatarKit.Speech.Deepgram;

/// <summary>A server message of the live listen socket, parsed defensively: any shape error yields null, never an exception.</summary>
internal sealed record ListenMessage(
    string Type,
    double Start,
    double Duration,
    bool IsFinal,
    bool SpeechFinal,
    bool FromFinalize,
    string Transcript,
    double Confidence,
    IReadOnlyList<RawWord> Words,
    double Timestamp,
    string? RequestId)
{
    public const string Results = "Results";
    public const string SpeechStarted = "SpeechStarted";
    public const string UtteranceEnd = "UtteranceEnd";
    public const string Metadata = "Metadata";

    /// <summary>Parses one text frame; returns null with a reason for anything malformed or unknown.</summary>
    public static ListenMessage? TryParse(ReadOnlyMemory<byte> utf8, out string? problem)
    {
        problem = null;
        try
        {
            using var document = JsonDocument.Parse(utf8);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            {
                problem = "not an object with a string 'type'";
                return null;
            }

            var type = typeElement.GetString()!;
            switch (type)
            {
                case Results:
                    return ParseResults(root, out problem);
                case SpeechStarted:
                    return Time(root, "timestamp") is { } timestamp
                        ? Empty(type) with { Timestamp = timestamp }
                        : Fail(out problem, "SpeechStarted without a numeric timestamp");
                case UtteranceEnd:
                    return Time(root, "last_word_end") is { } lastWordEnd
                        ? Empty(type) with { Timestamp = lastWordEnd }
                        : Fail(out problem, "UtteranceEnd without a numeric last_word_end");
                case Metadata:
                    return Empty(type) with { Duration = Number(root, "duration") ?? 0, RequestId = String(root, "request_id") };
                default:
                    problem = $"unknown type '{(type.Length > 40 ? type[..40] : type)}'";
                    return null;
            }
        }
        catch (JsonException ex)
        {
            problem = "invalid JSON: " + ex.Message;
            return null;
        }
        catch (ArgumentException ex)
        {
            // Invalid UTF-8 in a text frame.
            problem = "invalid text: " + ex.Message;
            return null;
        }
    }

    private static ListenMessage? ParseResults(JsonElement root, out string? problem)
    {
        problem = null;
        if (Time(root, "start") is not { } start || Time(root, "duration") is not { } duration
            || !root.TryGetProperty("channel", out var channel) || channel.ValueKind != JsonValueKind.Object
            || !channel.TryGetProperty("alternatives", out var alternatives) || alternatives.ValueKind != JsonValueKind.Array)
        {
            return Fail(out problem, "Results without numeric start/duration and channel.alternatives");
        }

        var transcript = string.Empty;
        var confidence = 0.0;
        var words = new List<RawWord>();
        if (alternatives.GetArrayLength() > 0)
        {
            var best = alternatives[0];
            if (best.ValueKind != JsonValueKind.Object || String(best, "transcript") is not { } text)
            {
                return Fail(out problem, "Results alternative without a string transcript");
            }

            transcript = text;
            confidence = Number(best, "confidence") ?? 0;
            if (best.TryGetProperty("words", out var wordArray) && wordArray.ValueKind == JsonValueKind.Array)
            {
                foreach (var word in wordArray.EnumerateArray())
                {
                    if (word.ValueKind != JsonValueKind.Object || String(word, "word") is not { } w
                        || Time(word, "start") is not { } ws || Time(word, "end") is not { } we || we < ws)
                    {
                        return Fail(out problem, "Results word without word/start/end");
                    }

                    words.Add(new RawWord(w, String(word, "punctuated_word") ?? w, ws, we, Number(word, "confidence") ?? 0, Number(word, "speaker") is { } speaker && speaker is >= 0 and <= 1000 ? (int)speaker : null));
                }
            }
        }

        string? requestId = null;
        if (root.TryGetProperty("metadata", out var metadata) && metadata.ValueKind == JsonValueKind.Object)
        {
            requestId = String(metadata, "request_id");
        }

        return new ListenMessage(Results, start, duration, Bool(root, "is_final"), Bool(root, "speech_final"), Bool(root, "from_finalize"), transcript, confidence, words, 0, requestId);
    }

    private static ListenMessage Empty(string type) => new(type, 0, 0, false, false, false, string.Empty, 0, [], 0, null);

    private static ListenMessage? Fail(out string? problem, string reason)
    {
        problem = reason;
        return null;
    }

    private static double? Number(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number)
            ? number
            : null;

    // Times beyond about 11 days of audio are garbage, and would overflow TimeSpan arithmetic.
    private static double? Time(JsonElement element, string name) =>
        Number(element, name) is { } seconds && seconds is >= 0 and <= 1e6 ? seconds : null;

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static bool Bool(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;
}

/// <summary>A word as Deepgram sends it, in seconds on the connection's clock.</summary>
internal sealed record RawWord(string Word, string PunctuatedWord, double Start, double End, double Confidence, int? Speaker);
