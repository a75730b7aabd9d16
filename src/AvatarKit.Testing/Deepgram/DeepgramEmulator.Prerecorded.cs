using Microsoft.AspNetCore.Http;
using NAudio.Wave;

namespace AvatarKit.Testing.Deepgram;

/// <summary>Pre-recorded transcription: <c>POST /v1/listen</c> with a WAV or raw linear16 body.</summary>
public sealed partial class DeepgramEmulator
{
    private async Task HandlePrerecordedAsync(HttpContext context)
    {
        var requestId = Guid.NewGuid().ToString();
        if (!await AuthorizeAsync(context, requestId).ConfigureAwait(false))
        {
            return;
        }

        var parameters = ListenParameters.Parse(context.Request.Query, requireRawFormat: false, out var error);
        if (parameters is null)
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, "Bad Request", error!, requestId).ConfigureAwait(false);
            return;
        }

        if (context.Request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true)
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, "Bad Request", "The Deepgram emulator cannot fetch audio URLs; send the audio bytes.", requestId).ConfigureAwait(false);
            return;
        }

        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, context.RequestAborted).ConfigureAwait(false);
        var audio = body.ToArray();
        if (audio.Length >= 12 && audio.AsSpan(0, 4).SequenceEqual("RIFF"u8))
        {
            try
            {
                using var reader = new WaveFileReader(new MemoryStream(audio));
                if (reader.WaveFormat.Encoding != WaveFormatEncoding.Pcm || reader.WaveFormat.BitsPerSample != 16)
                {
                    throw new FormatException("not PCM16");
                }

                parameters = parameters with { Encoding = "linear16", SampleRate = reader.WaveFormat.SampleRate, Channels = reader.WaveFormat.Channels };
                audio = new byte[reader.Length];
                reader.ReadExactly(audio);
            }
            catch (Exception ex) when (ex is FormatException or InvalidDataException or EndOfStreamException)
            {
                await RefuseAsync(context, StatusCodes.Status400BadRequest, "Bad Request", "Bad Request: failed to process audio: corrupt or unsupported data", requestId).ConfigureAwait(false);
                return;
            }
        }
        else if (parameters.Encoding != "linear16" || parameters.SampleRate == 0)
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, "Bad Request", "Bad Request: failed to process audio: corrupt or unsupported data", requestId).ConfigureAwait(false);
            return;
        }

        // Pre-recorded audio has no live endpointing; split utterances on half a second of silence.
        parameters = parameters with { EndpointingMs = 500, InterimResults = false, UtteranceEndMs = null, VadEvents = false };
        var collector = new FinalCollector();
        var recognizer = new EmulatedRecognizer(parameters, this, collector);
        recognizer.Process(audio);
        recognizer.Finalize(fromFinalize: false);
        var model = parameters.Model.StartsWith("nova-3", StringComparison.Ordinal) ? "nova-3" : parameters.Model;
        context.Response.Headers["dg-request-id"] = requestId;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(DeepgramWire.Write(w =>
        {
            w.WriteStartObject("metadata");
            w.WriteString("transaction_key", "deprecated");
            w.WriteString("request_id", requestId);
            w.WriteString("sha256", Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(audio)));
            w.WriteString("created", DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
            w.WriteNumber("duration", DeepgramWire.Round(recognizer.AudioSeconds));
            w.WriteNumber("channels", parameters.Channels);
            w.WriteStartArray("models");
            w.WriteStringValue(DeepgramWire.ModelUuid);
            w.WriteEndArray();
            w.WriteStartObject("model_info");
            DeepgramWire.WriteModelInfo(w, DeepgramWire.ModelUuid, model);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteStartObject("results");
            w.WriteStartArray("channels");
            w.WriteStartObject();
            w.WriteStartArray("alternatives");
            DeepgramWire.WriteAlternative(w, collector.Words);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        }), context.RequestAborted).ConfigureAwait(false);
    }

    private sealed class FinalCollector : IEmulatedRecognitionSink
    {
        public List<EmulatedWord> Words { get; } = [];

        public void Result(EmulatedResult result)
        {
            if (result.IsFinal)
            {
                Words.AddRange(result.Words);
            }
        }

        public void SpeechStarted(double timestamp)
        {
        }

        public void UtteranceEnd(double lastWordEnd)
        {
        }
    }
}
