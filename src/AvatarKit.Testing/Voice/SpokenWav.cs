using NAudio.Wave;

namespace AvatarKit.Testing.Voice;

/// <summary>Writes WAV files of spoken text for tests and demos (espeak-ng, or the synthetic voice when absent).</summary>
public static class SpokenWav
{
    /// <summary>Synthesizes <paramref name="text"/> as PCM16 mono, padded with silence.</summary>
    /// <param name="text">The text to speak.</param>
    /// <param name="sampleRate">The rate in Hz.</param>
    /// <param name="leadingSilence">Silence before the speech.</param>
    /// <param name="trailingSilence">Silence after the speech.</param>
    /// <param name="cancellationToken">Cancels the synthesis.</param>
    /// <returns>The PCM16 bytes.</returns>
    public static async Task<byte[]> SynthesizePcmAsync(string text, int sampleRate, TimeSpan leadingSilence = default, TimeSpan trailingSilence = default, CancellationToken cancellationToken = default)
    {
        var format = new AudioFormat(sampleRate, 1);
        var speech = EspeakTextToSpeechClient.IsAvailable
            ? await EspeakTextToSpeechClient.SynthesizeAsync(text, sampleRate, cancellationToken: cancellationToken).ConfigureAwait(false)
            : SyntheticTextToSpeechClient.Synthesize(text, sampleRate);
        var lead = format.GetByteCount(leadingSilence);
        var result = new byte[lead + speech.Length + format.GetByteCount(trailingSilence)];
        speech.CopyTo(result, lead);
        return result;
    }

    /// <summary>Writes a PCM16 mono WAV file of <paramref name="text"/>, padded with silence.</summary>
    /// <param name="path">The file to create or overwrite.</param>
    /// <param name="text">The text to speak.</param>
    /// <param name="sampleRate">The rate in Hz.</param>
    /// <param name="leadingSilence">Silence before the speech.</param>
    /// <param name="trailingSilence">Silence after the speech.</param>
    /// <param name="cancellationToken">Cancels the synthesis.</param>
    /// <returns>A task that completes when the file is written.</returns>
    public static async Task WriteAsync(string path, string text, int sampleRate = 16_000, TimeSpan leadingSilence = default, TimeSpan trailingSilence = default, CancellationToken cancellationToken = default)
    {
        var pcm = await SynthesizePcmAsync(text, sampleRate, leadingSilence, trailingSilence, cancellationToken).ConfigureAwait(false);
        await using var writer = new WaveFileWriter(path, new WaveFormat(sampleRate, 16, 1));
        await writer.WriteAsync(pcm, cancellationToken).ConfigureAwait(false);
    }
}
