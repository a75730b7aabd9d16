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
        return SpeechAudioDecoder.ToPcm(response, format);
    }
}
