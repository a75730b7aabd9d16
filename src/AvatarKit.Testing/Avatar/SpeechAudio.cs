using System.Buffers.Binary;
using Microsoft.Extensions.AI;

namespace AvatarKit.Testing;

/// <summary>Speech audio for the emulated avatar: decoded text-to-speech output, or synthesized babble.</summary>
internal static class SpeechAudio
{
    /// <summary>Synthesizes a voice-like murmur whose length follows the text, so that timing is realistic without a TTS engine.</summary>
    public static byte[] Babble(string text, AudioFormat format, double charactersPerSecond, TimeSpan minimum)
    {
        var seconds = Math.Max(minimum.TotalSeconds, text.Length / charactersPerSecond);
        var samples = (int)(seconds * format.SampleRate);
        var pcm = new short[samples * format.Channels];
        var phase = 0.0;
        for (var i = 0; i < samples; i++)
        {
            var t = (double)i / format.SampleRate;

            // Syllables at ~4.5 Hz with a drifting pitch: the mouth visibly opens and closes.
            var envelope = 0.5 * (1 - Math.Cos(2 * Math.PI * 4.5 * t));
            var pitch = 140 + 25 * Math.Sin(2 * Math.PI * 0.7 * t);
            phase += 2 * Math.PI * pitch / format.SampleRate;
            var value = (Math.Sin(phase) + 0.5 * Math.Sin(2 * phase) + 0.25 * Math.Sin(3 * phase)) / 1.75;
            var sample = (short)(value * envelope * 0.35 * short.MaxValue);
            for (var c = 0; c < format.Channels; c++)
            {
                pcm[i * format.Channels + c] = sample;
            }
        }

        return Pcm16.AsBytes(pcm).ToArray();
    }

    /// <summary>Turns text into PCM16 in <paramref name="format"/> with a text-to-speech client (WAV or raw PCM output).</summary>
    public static async Task<byte[]> SynthesizeAsync(ITextToSpeechClient client, string text, AudioFormat format, CancellationToken cancellationToken)
    {
        var response = await client.GetAudioAsync(text, new TextToSpeechOptions { AudioFormat = "wav" }, cancellationToken).ConfigureAwait(false);
        var data = response.Contents.OfType<DataContent>().FirstOrDefault()
            ?? throw new InvalidOperationException("The text-to-speech client returned no audio.");
        var (source, pcm) = Decode(data.Data, data.MediaType);
        using var frame = AudioFrame.Copy(source, pcm.Span, TimeSpan.Zero);
        using var converted = AudioConversion.Convert(frame, format);
        return converted.Span.ToArray();
    }

    private static (AudioFormat Format, ReadOnlyMemory<byte> Pcm) Decode(ReadOnlyMemory<byte> data, string mediaType)
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
                if (id.SequenceEqual("fmt "u8))
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
                    var length = size - size % f.BlockAlign;
                    return (f, data.Slice(offset + 8, length));
                }

                offset += 8 + size + (size & 1);
            }

            throw new InvalidDataException("The WAV speech audio has no fmt or data chunk.");
        }

        // Raw PCM: "audio/pcm;rate=24000" or "audio/L16;rate=16000"; 24 kHz mono when unspecified.
        var rateParameter = mediaType.Split(';').Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith("rate=", StringComparison.OrdinalIgnoreCase));
        var sampleRate = rateParameter is null ? 24_000 : int.Parse(rateParameter.AsSpan(5), System.Globalization.CultureInfo.InvariantCulture);
        return (new AudioFormat(sampleRate, 1), data[..(data.Length & ~1)]);
    }
}
