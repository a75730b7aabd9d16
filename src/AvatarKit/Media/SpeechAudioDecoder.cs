using System.Buffers.Binary;
using System.Globalization;
using Microsoft.Extensions.AI;

namespace AvatarKit;

/// <summary>
/// Turns the audio of any Microsoft.Extensions.AI text-to-speech response (WAV, or raw PCM16 whose
/// media type carries a <c>rate</c> parameter) into PCM16 in the format a consumer needs.
/// </summary>
public static class SpeechAudioDecoder
{
    /// <summary>Decodes and converts every audio part of <paramref name="response"/>, in order.</summary>
    /// <param name="response">The text-to-speech response.</param>
    /// <param name="target">The PCM16 format to deliver.</param>
    /// <returns>The PCM16 bytes in <paramref name="target"/>.</returns>
    /// <exception cref="InvalidOperationException">The response holds no audio.</exception>
    /// <exception cref="NotSupportedException">The audio is neither 16-bit WAV nor raw PCM16.</exception>
    public static byte[] ToPcm(TextToSpeechResponse response, AudioFormat target)
    {
        ArgumentNullException.ThrowIfNull(response);
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

    /// <summary>Finds the PCM16 samples and their format in WAV bytes or in raw PCM of the given media type.</summary>
    /// <param name="data">A WAV file's bytes, or raw PCM16.</param>
    /// <param name="mediaType">The media type, e.g. <c>audio/wav</c> or <c>audio/pcm;rate=24000</c> (raw PCM is 24 kHz mono when no rate is given).</param>
    /// <returns>The format and a slice of <paramref name="data"/> holding the samples.</returns>
    /// <exception cref="NotSupportedException">The audio is neither 16-bit WAV nor raw PCM16.</exception>
    /// <exception cref="InvalidDataException">The WAV has no fmt or data chunk.</exception>
    public static (AudioFormat Format, ReadOnlyMemory<byte> Pcm) Decode(ReadOnlyMemory<byte> data, string mediaType)
    {
        ArgumentNullException.ThrowIfNull(mediaType);
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
                        throw new NotSupportedException($"The speech audio has {bits}-bit samples; only 16-bit PCM is supported.");
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
            throw new NotSupportedException($"Speech audio of type '{mediaType}' is not supported; ask the text-to-speech client for WAV or raw PCM16 (linear16).");
        }

        var rateParameter = mediaType.Split(';').Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith("rate=", StringComparison.OrdinalIgnoreCase));
        var sampleRate = rateParameter is null ? 24_000 : int.Parse(rateParameter.AsSpan(5), CultureInfo.InvariantCulture);
        return (new AudioFormat(sampleRate, 1), data[..(data.Length & ~1)]);
    }
}
