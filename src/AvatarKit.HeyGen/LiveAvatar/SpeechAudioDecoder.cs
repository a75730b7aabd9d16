using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Extensions.AI;

namespace AvatarKit.HeyGen;

/// <summary>Turns the audio of an M.E.AI text-to-speech response (WAV, or raw PCM16 with a <c>rate</c> parameter) into PCM16 in a target format.</summary>
internal static class SpeechAudioDecoder
{
    public static byte[] ToPcm(TextToSpeechResponse response, AudioFormat target)
    {
        var parts = response.Contents.OfType<DataContent>().ToList();
        if (parts.Count == 0)
        {
            throw new InvalidOperationException("The text-to-speech client returned no audio.");
        }

        using var output = new MemoryStream();
        foreach (var part in parts)
        {
            var (format, pcm) = Decode(part.Data, part.MediaType);
            using var frame = AudioFrame.Copy(format, pcm.Span, TimeSpan.Zero);
            using var converted = AudioConversion.Convert(frame, target);
            output.Write(converted.Span);
        }

        return output.ToArray();
    }

    internal static (AudioFormat Format, ReadOnlyMemory<byte> Pcm) Decode(ReadOnlyMemory<byte> data, string mediaType)
    {
        var span = data.Span;
        if (span.Length >= 12 && span[..4].SequenceEqual("RIFF"u8) && span.Slice(8, 4).SequenceEqual("WAVE"u8))
        {
            AudioFormat? format = null;
            var offset = 12;
            while (offset + 8 <= span.Length)
            {
                var id = span.Slice(offset, 4);
                var size = (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(offset + 4, 4)), (uint)(span.Length - offset - 8));
                if (id.SequenceEqual("fmt "u8) && size >= 16)
                {
                    var channels = BinaryPrimitives.ReadUInt16LittleEndian(span.Slice(offset + 10, 2));
                    var rate = BinaryPrimitives.ReadInt32LittleEndian(span.Slice(offset + 12, 4));
                    var bits = BinaryPrimitives.ReadUInt16LittleEndian(span.Slice(offset + 22, 2));
                    if (bits != 16)
                    {
                        throw new NotSupportedException($"The speech audio has {bits}-bit samples; LiveAvatar LITE needs 16-bit PCM.");
                    }

                    format = new AudioFormat(rate, channels);
                }
                else if (id.SequenceEqual("data"u8) && format is { } f)
                {
                    return (f, data.Slice(offset + 8, size - size % f.BlockAlign));
                }

                offset += 8 + size + (size & 1);
            }

            throw new InvalidDataException("The WAV speech audio has no fmt or data chunk.");
        }

        if (!mediaType.Contains("pcm", StringComparison.OrdinalIgnoreCase) && !mediaType.Contains("l16", StringComparison.OrdinalIgnoreCase)
            && !mediaType.Contains("octet-stream", StringComparison.OrdinalIgnoreCase))
        {
            throw new NotSupportedException($"Speech audio of type '{mediaType}' cannot be streamed to LiveAvatar LITE; ask the text-to-speech client for WAV or raw PCM16 (linear16).");
        }

        var rateParameter = mediaType.Split(';').Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith("rate=", StringComparison.OrdinalIgnoreCase));
        var sampleRate = rateParameter is null ? 24_000 : int.Parse(rateParameter.AsSpan(5), CultureInfo.InvariantCulture);
        return (new AudioFormat(sampleRate, 1), data[..(data.Length & ~1)]);
    }
}
