using System.Buffers;
using System.Text;
using System.Text.Json;

namespace AvatarKit.Testing.Deepgram;

/// <summary>The emulator's own rendering of Deepgram's JSON messages (declared from the spec, not shared with any client).</summary>
internal static class DeepgramWire
{
    public const string ModelUuid = "1dbdfb4d-85b2-4659-9e5e-2a2f4a1e0c3b";

    public static string Write(Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static string Error(string code, string message, string requestId) => Write(w =>
    {
        w.WriteString("err_code", code);
        w.WriteString("err_msg", message);
        w.WriteString("request_id", requestId);
    });

    public static string SpeechStarted(int channels, double timestamp) => Write(w =>
    {
        w.WriteString("type", "SpeechStarted");
        WriteChannel(w, "channel", channels);
        w.WriteNumber("timestamp", Round(timestamp));
    });

    public static string UtteranceEnd(int channels, double lastWordEnd) => Write(w =>
    {
        w.WriteString("type", "UtteranceEnd");
        WriteChannel(w, "channel", channels);
        w.WriteNumber("last_word_end", Round(lastWordEnd));
    });

    public static string Metadata(string requestId, double duration, int channels) => Write(w =>
    {
        w.WriteString("type", "Metadata");
        w.WriteString("transaction_key", "deprecated");
        w.WriteString("request_id", requestId);
        w.WriteString("sha256", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(requestId))));
        w.WriteString("created", DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
        w.WriteNumber("duration", Round(duration));
        w.WriteNumber("channels", channels);
    });

    public static string Results(EmulatedResult result, int channels, string requestId, string model) => Write(w =>
    {
        w.WriteString("type", "Results");
        WriteChannel(w, "channel_index", channels);
        w.WriteNumber("duration", Round(result.Duration));
        w.WriteNumber("start", Round(result.Start));
        w.WriteBoolean("is_final", result.IsFinal);
        w.WriteBoolean("speech_final", result.SpeechFinal);
        w.WriteBoolean("from_finalize", result.FromFinalize);
        w.WriteStartObject("channel");
        w.WriteStartArray("alternatives");
        WriteAlternative(w, result.Words);
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteStartObject("metadata");
        w.WriteString("request_id", requestId);
        w.WriteString("model_uuid", ModelUuid);
        WriteModelInfo(w, "model_info", model);
        w.WriteEndObject();
    });

    public static void WriteAlternative(Utf8JsonWriter w, IReadOnlyList<EmulatedWord> words)
    {
        w.WriteStartObject();
        w.WriteString("transcript", string.Join(' ', words.Select(x => x.PunctuatedWord)));
        w.WriteNumber("confidence", words.Count == 0 ? 0 : 0.98);
        w.WriteStartArray("words");
        foreach (var word in words)
        {
            w.WriteStartObject();
            w.WriteString("word", word.Word);
            w.WriteNumber("start", Round(word.Start));
            w.WriteNumber("end", Round(word.End));
            w.WriteNumber("confidence", 0.98);
            w.WriteString("punctuated_word", word.PunctuatedWord);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    public static void WriteModelInfo(Utf8JsonWriter w, string name, string model)
    {
        w.WriteStartObject(name);
        w.WriteString("name", "general-" + model);
        w.WriteString("version", "2025-01-01.0");
        w.WriteString("arch", model);
        w.WriteEndObject();
    }

    public static double Round(double seconds) => Math.Round(seconds, 3);

    private static void WriteChannel(Utf8JsonWriter w, string name, int channels)
    {
        w.WriteStartArray(name);
        w.WriteNumberValue(0);
        w.WriteNumberValue(channels);
        w.WriteEndArray();
    }
}

/// <summary>One word of an emulated transcript.</summary>
internal sealed record EmulatedWord(string Word, string PunctuatedWord, double Start, double End);

/// <summary>One emulated <c>Results</c> message.</summary>
internal sealed record EmulatedResult(double Start, double Duration, bool IsFinal, bool SpeechFinal, bool FromFinalize, IReadOnlyList<EmulatedWord> Words);
