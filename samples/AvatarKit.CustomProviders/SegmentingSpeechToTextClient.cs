using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace AvatarKit.Samples;

/// <summary>
/// Makes any buffered speech-to-text client (e.g. an OpenAI-compatible <c>/audio/transcriptions</c>
/// endpoint, a local Whisper server) streaming, with AvatarKit's turn signals: an energy detector
/// cuts the live PCM16 into utterances, sends <see cref="SpeechTurnSignals.SpeechStarted"/> as soon as
/// the voice starts (so the avatar is interrupted at once), then transcribes each utterance and sends
/// it as a final segment with <see cref="SpeechTurnSignals.SpeechFinalProperty"/> set.
/// </summary>
internal sealed class SegmentingSpeechToTextClient(ISpeechToTextClient inner, double thresholdDbfs = -40, int silenceMs = 600) : DelegatingSpeechToTextClient(inner)
{
    public override async IAsyncEnumerable<SpeechToTextResponseUpdate> GetStreamingTextAsync(
        Stream audioSpeechStream, SpeechToTextOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var sampleRate = options?.SpeechSampleRate ?? 16_000;
        var frame = new byte[sampleRate / 50 * 2];
        using var utterance = new MemoryStream();
        var silentFrames = 0;
        while (await audioSpeechStream.ReadAtLeastAsync(frame, frame.Length, throwOnEndOfStream: false, cancellationToken) is var read && read > 0)
        {
            var loud = Pcm16.GetRmsDbfs(Pcm16.AsSamples(frame.AsSpan(0, read & ~1))) > thresholdDbfs;
            if (loud && utterance.Length == 0)
            {
                yield return new SpeechToTextResponseUpdate { Kind = SpeechTurnSignals.SpeechStarted };
            }

            if (loud || utterance.Length > 0)
            {
                utterance.Write(frame, 0, read);
                silentFrames = loud ? 0 : silentFrames + 1;
            }

            if (utterance.Length > 0 && silentFrames * 20 >= silenceMs)
            {
                yield return await TranscribeAsync(utterance, sampleRate, options, cancellationToken);
                utterance.SetLength(0);
                silentFrames = 0;
            }
        }

        if (utterance.Length > 0)
        {
            yield return await TranscribeAsync(utterance, sampleRate, options, cancellationToken);
        }
    }

    private async Task<SpeechToTextResponseUpdate> TranscribeAsync(MemoryStream pcm, int sampleRate, SpeechToTextOptions? options, CancellationToken cancellationToken)
    {
        using var wav = new MemoryStream();
        WriteWavHeader(wav, (int)pcm.Length, sampleRate);
        pcm.Position = 0;
        await pcm.CopyToAsync(wav, cancellationToken);
        wav.Position = 0;
        var response = await base.GetTextAsync(wav, options, cancellationToken);
        return new SpeechToTextResponseUpdate(response.Text)
        {
            Kind = SpeechToTextResponseUpdateKind.TextUpdated,
            AdditionalProperties = new() { [SpeechTurnSignals.SpeechFinalProperty] = true },
        };
    }

    private static void WriteWavHeader(Stream stream, int dataLength, int sampleRate)
    {
        Span<byte> header = stackalloc byte[44];
        "RIFF"u8.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], 36 + dataLength);
        "WAVEfmt "u8.CopyTo(header[8..]);
        BinaryPrimitives.WriteInt32LittleEndian(header[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(header[20..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(header[22..], 1);
        BinaryPrimitives.WriteInt32LittleEndian(header[24..], sampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(header[28..], sampleRate * 2);
        BinaryPrimitives.WriteInt16LittleEndian(header[32..], 2);
        BinaryPrimitives.WriteInt16LittleEndian(header[34..], 16);
        "data"u8.CopyTo(header[36..]);
        BinaryPrimitives.WriteInt32LittleEndian(header[40..], dataLength);
        stream.Write(header);
    }
}

/// <summary>A buffered client for any OpenAI-compatible <c>/audio/transcriptions</c> endpoint.</summary>
internal sealed class OpenAiCompatibleTranscriptionClient(HttpClient http, Uri baseUrl, string model, string? apiKey) : ISpeechToTextClient
{
    public async Task<SpeechToTextResponse> GetTextAsync(Stream audioSpeechStream, SpeechToTextOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var form = new MultipartFormDataContent
        {
            { new StreamContent(audioSpeechStream), "file", "speech.wav" },
            { new StringContent(options?.ModelId ?? model), "model" },
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "audio/transcriptions")) { Content = form };
        if (apiKey is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }

        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return new SpeechToTextResponse(json.RootElement.GetProperty("text").GetString() ?? string.Empty);
    }

    public IAsyncEnumerable<SpeechToTextResponseUpdate> GetStreamingTextAsync(Stream audioSpeechStream, SpeechToTextOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("Wrap this client in SegmentingSpeechToTextClient to stream.");

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }
}
