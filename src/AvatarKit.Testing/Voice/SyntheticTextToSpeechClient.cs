using System.Runtime.InteropServices;
using Microsoft.Extensions.AI;

namespace AvatarKit.Testing.Voice;

/// <summary>
/// A fallback voice for machines without espeak-ng: one 250 ms voiced tone per word with short
/// pauses, as PCM16 mono at the requested rate. Not speech, but speech-shaped: energy-based
/// detectors see one burst per word and silence between sentences.
/// </summary>
/// <remarks>Takes the same options as <see cref="EspeakTextToSpeechClient"/>.</remarks>
public sealed class SyntheticTextToSpeechClient : ITextToSpeechClient
{
    private static readonly TimeSpan WordLength = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan Gap = TimeSpan.FromMilliseconds(80);
    private readonly TextToSpeechClientMetadata _metadata = new("synthetic", providerUri: null, defaultModelId: "synthetic-tone");

    /// <summary>Synthesizes the tone pattern for <paramref name="text"/>.</summary>
    /// <param name="text">The text; one tone per word.</param>
    /// <param name="sampleRate">The output rate in Hz.</param>
    /// <returns>PCM16 mono bytes.</returns>
    public static byte[] Synthesize(string text, int sampleRate)
    {
        ArgumentNullException.ThrowIfNull(text);
        var format = new AudioFormat(sampleRate, 1);
        var words = Math.Max(1, text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length);
        var wordSamples = format.GetByteCount(WordLength) / 2;
        var gapSamples = format.GetByteCount(Gap) / 2;
        var samples = new short[words * (wordSamples + gapSamples)];
        for (var w = 0; w < words; w++)
        {
            var offset = w * (wordSamples + gapSamples);
            var pitch = 180 + (w % 3) * 40;
            for (var i = 0; i < wordSamples; i++)
            {
                // A raised-cosine envelope avoids clicks at the word edges.
                var envelope = 0.5 - 0.5 * Math.Cos(2 * Math.PI * i / wordSamples);
                samples[offset + i] = (short)(12_000 * envelope * Math.Sin(2 * Math.PI * pitch * i / sampleRate));
            }
        }

        return MemoryMarshal.AsBytes(samples.AsSpan()).ToArray();
    }

    /// <inheritdoc />
    public Task<TextToSpeechResponse> GetAudioAsync(string text, TextToSpeechOptions? options = null, CancellationToken cancellationToken = default)
    {
        var rate = EspeakTextToSpeechClient.GetSampleRate(options);
        return Task.FromResult(new TextToSpeechResponse([new DataContent(Synthesize(text, rate), EspeakTextToSpeechClient.GetMediaType(rate))])
        {
            ModelId = _metadata.DefaultModelId,
        });
    }

    /// <inheritdoc />
    public IAsyncEnumerable<TextToSpeechResponseUpdate> GetStreamingAudioAsync(string text, TextToSpeechOptions? options = null, CancellationToken cancellationToken = default) =>
        LocalVoice.StreamAsync(ct => GetAudioAsync(text, options, ct), cancellationToken);

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null) => LocalVoice.GetService(this, _metadata, serviceType, serviceKey);

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
