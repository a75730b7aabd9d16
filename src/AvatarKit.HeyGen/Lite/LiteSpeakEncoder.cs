using System.Buffers;
using System.Text.Json;

namespace AvatarKit.HeyGen;

/// <summary>Writes <c>agent.speak</c> messages straight into a buffer, base64 included, without an intermediate string.</summary>
internal static class LiteSpeakEncoder
{
    /// <summary>Gets a buffer size that holds a message with <paramref name="pcmBytes"/> of audio.</summary>
    public static int GetMaxLength(int pcmBytes) => ((pcmBytes + 2) / 3 * 4) + 128;

    /// <summary>Replaces the buffer's contents with <c>{"type":"agent.speak","event_id":…,"audio":…}</c>.</summary>
    public static void Write(ArrayBufferWriter<byte> buffer, string eventId, ReadOnlySpan<byte> pcm)
    {
        buffer.ResetWrittenCount();
        using var writer = new Utf8JsonWriter(buffer);
        writer.WriteStartObject();
        writer.WriteString("type"u8, "agent.speak"u8);
        writer.WriteString("event_id"u8, eventId);
        writer.WriteBase64String("audio"u8, pcm);
        writer.WriteEndObject();
    }
}
