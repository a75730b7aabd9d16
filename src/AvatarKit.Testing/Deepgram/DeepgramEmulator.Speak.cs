using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using AvatarKit.Testing.Voice;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;

namespace AvatarKit.Testing.Deepgram;

/// <summary>The Aura endpoints: <c>POST /v1/speak</c> (streamed audio) and the speak WebSocket.</summary>
public sealed partial class DeepgramEmulator
{
    private const int MaxSpeakCharacters = 2000;
    private static readonly int[] SpeakRates = [8000, 16000, 24000, 32000, 48000];

    private static bool TryParseSpeakQuery(IQueryCollection query, bool rest, out string model, out int sampleRate, out bool wavContainer, out string? error)
    {
        model = query["model"].FirstOrDefault() ?? "aura-asteria-en";
        sampleRate = 24_000;
        wavContainer = false;
        error = null;
        var encoding = query["encoding"].FirstOrDefault() ?? (rest ? "mp3" : "linear16");
        if (encoding != "linear16")
        {
            // The emulator synthesizes PCM only; say so instead of sending mislabelled audio.
            error = $"The Deepgram emulator synthesizes encoding=linear16 only, not '{encoding}'.";
            return false;
        }

        if (!model.StartsWith("aura", StringComparison.Ordinal))
        {
            error = $"No such model: '{model}'.";
            return false;
        }

        if (query["sample_rate"].FirstOrDefault() is { } rateText
            && (!int.TryParse(rateText, NumberStyles.None, CultureInfo.InvariantCulture, out sampleRate) || !SpeakRates.Contains(sampleRate)))
        {
            error = $"Invalid sample_rate '{rateText}' for linear16; use 8000, 16000, 24000, 32000 or 48000.";
            return false;
        }

        var container = query["container"].FirstOrDefault() ?? "wav";
        if (rest && container is not ("wav" or "none"))
        {
            error = $"Invalid container '{container}' for linear16; use wav or none.";
            return false;
        }

        wavContainer = rest && container == "wav";
        return true;
    }

    private async Task<byte[]> SynthesizeAsync(string text, int sampleRate, CancellationToken cancellationToken)
    {
        var options = new TextToSpeechOptions { AdditionalProperties = new() { [EspeakTextToSpeechClient.SampleRateKey] = sampleRate } };
        var response = await Voice.GetAudioAsync(text, options, cancellationToken).ConfigureAwait(false);
        return response.Contents.OfType<DataContent>().SelectMany(d => d.Data.ToArray()).ToArray();
    }

    private async Task HandleSpeakRestAsync(HttpContext context)
    {
        var requestId = Guid.NewGuid().ToString();
        if (!await AuthorizeAsync(context, requestId).ConfigureAwait(false))
        {
            return;
        }

        if (!TryParseSpeakQuery(context.Request.Query, rest: true, out var model, out var rate, out var wav, out var error))
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, "Bad Request", error!, requestId).ConfigureAwait(false);
            return;
        }

        string? text = null;
        try
        {
            using var body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted).ConfigureAwait(false);
            if (body.RootElement.ValueKind == JsonValueKind.Object && body.RootElement.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
            {
                text = t.GetString();
            }
        }
        catch (JsonException ex)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(DeepgramWire.Write(w =>
            {
                w.WriteString("category", "INVALID_JSON");
                w.WriteString("message", "Invalid JSON submitted.");
                w.WriteString("details", ex.Message);
                w.WriteString("request_id", requestId);
            }), context.RequestAborted).ConfigureAwait(false);
            return;
        }

        if (string.IsNullOrWhiteSpace(text) || text.Length > MaxSpeakCharacters)
        {
            var message = text is { Length: > MaxSpeakCharacters } ? $"Text is longer than {MaxSpeakCharacters} characters." : "Body must be {\"text\":\"...\"} with non-empty text.";
            await RefuseAsync(context, StatusCodes.Status400BadRequest, "Bad Request", message, requestId).ConfigureAwait(false);
            return;
        }

        var pcm = await SynthesizeAsync(text, rate, context.RequestAborted).ConfigureAwait(false);
        context.Response.ContentType = wav ? "audio/wav" : "application/octet-stream";
        context.Response.Headers["dg-model-name"] = model;
        context.Response.Headers["dg-model-uuid"] = DeepgramWire.ModelUuid;
        context.Response.Headers["dg-char-count"] = text.Length.ToString(CultureInfo.InvariantCulture);
        if (wav)
        {
            await context.Response.Body.WriteAsync(WavHeader(rate, pcm.Length), context.RequestAborted).ConfigureAwait(false);
        }

        var chunk = new AudioFormat(rate, 1).GetByteCount(Options.SpeakChunkDuration);
        for (int offset = 0, index = 0; offset < pcm.Length; offset += chunk, index++)
        {
            if (Options.Faults.BeforeSpeakChunk is { } hook)
            {
                await hook(index, context.RequestAborted).ConfigureAwait(false);
            }

            await context.Response.Body.WriteAsync(pcm.AsMemory(offset, Math.Min(chunk, pcm.Length - offset)), context.RequestAborted).ConfigureAwait(false);
            await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
        }
    }

    private static byte[] WavHeader(int sampleRate, int dataLength)
    {
        var header = new byte[44];
        var span = header.AsSpan();
        "RIFF"u8.CopyTo(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[4..], 36 + dataLength);
        "WAVEfmt "u8.CopyTo(span[8..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], 16);
        BinaryPrimitives.WriteInt16LittleEndian(span[20..], 1);
        BinaryPrimitives.WriteInt16LittleEndian(span[22..], 1);
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], sampleRate);
        BinaryPrimitives.WriteInt32LittleEndian(span[28..], sampleRate * 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[32..], 2);
        BinaryPrimitives.WriteInt16LittleEndian(span[34..], 16);
        "data"u8.CopyTo(span[36..]);
        BinaryPrimitives.WriteInt32LittleEndian(span[40..], dataLength);
        return header;
    }

    private async Task HandleSpeakSocketAsync(HttpContext context)
    {
        var requestId = Guid.NewGuid().ToString();
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.Headers["dg-request-id"] = requestId;
            await RefuseAsync(context, StatusCodes.Status400BadRequest, "Bad Request", "Expected a WebSocket upgrade.", requestId).ConfigureAwait(false);
            return;
        }

        if (!await AuthorizeAsync(context, requestId).ConfigureAwait(false))
        {
            return;
        }

        if (!TryParseSpeakQuery(context.Request.Query, rest: false, out var model, out var rate, out _, out var error))
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, "Bad Request", error!, requestId).ConfigureAwait(false);
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync(SelectedSubProtocol(context)).ConfigureAwait(false);
        Interlocked.Increment(ref _speakConnections);
        using var writeLock = new SemaphoreSlim(1, 1);
        var jobs = Channel.CreateUnbounded<SpeakJob?>(new UnboundedChannelOptions { SingleReader = true });
        var clearGeneration = 0;
        var flushSequence = 0;
        var clearSequence = 0;
        var aborted = context.RequestAborted;

        async Task SendAsync(ReadOnlyMemory<byte> payload, WebSocketMessageType type)
        {
            await writeLock.WaitAsync(aborted).ConfigureAwait(false);
            try
            {
                await socket.SendAsync(payload, type, endOfMessage: true, aborted).ConfigureAwait(false);
            }
            finally
            {
                writeLock.Release();
            }
        }

        Task SendJsonAsync(string json) => SendAsync(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text);

        // Sentences and flushes are synthesized in order by one worker, so a Clear can drop audio still pending.
        async Task SynthesizeLoopAsync()
        {
            await foreach (var job in jobs.Reader.ReadAllAsync(aborted).ConfigureAwait(false))
            {
                if (job is null)
                {
                    break;
                }

                var generation = Volatile.Read(ref clearGeneration);
                var text = job.Text.Trim();
                var pcm = text.Length == 0 ? [] : await SynthesizeAsync(text, rate, aborted).ConfigureAwait(false);
                var chunk = new AudioFormat(rate, 1).GetByteCount(Options.SpeakChunkDuration);
                for (int offset = 0, index = 0; offset < pcm.Length && generation == Volatile.Read(ref clearGeneration); offset += chunk, index++)
                {
                    if (Options.Faults.BeforeSpeakChunk is { } hook)
                    {
                        await hook(index, aborted).ConfigureAwait(false);
                        if (generation != Volatile.Read(ref clearGeneration))
                        {
                            break;
                        }
                    }

                    await SendAsync(pcm.AsMemory(offset, Math.Min(chunk, pcm.Length - offset)), WebSocketMessageType.Binary).ConfigureAwait(false);
                }

                if (job.Flush && generation == Volatile.Read(ref clearGeneration))
                {
                    var sequence = flushSequence++;
                    await SendJsonAsync(DeepgramWire.Write(w =>
                    {
                        w.WriteString("type", "Flushed");
                        w.WriteNumber("sequence_id", sequence);
                    })).ConfigureAwait(false);
                }
            }
        }

        await SendJsonAsync(DeepgramWire.Write(w =>
        {
            w.WriteString("type", "Metadata");
            w.WriteString("request_id", requestId);
            w.WriteString("model_name", model);
            w.WriteString("model_version", "2025-01-01.0");
            w.WriteString("model_uuid", DeepgramWire.ModelUuid);
        })).ConfigureAwait(false);

        var worker = SynthesizeLoopAsync();
        var pending = new StringBuilder();
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            var message = new ArrayBufferWriter<byte>();
            while (true)
            {
                message.ResetWrittenCount();
                WebSocketReceiveResult received;
                do
                {
                    received = await socket.ReceiveAsync(buffer, aborted).ConfigureAwait(false);
                    message.Write(buffer.AsSpan(0, received.Count));
                }
                while (!received.EndOfMessage && received.MessageType != WebSocketMessageType.Close);

                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                var (type, text) = ReadSpeakMessage(message.WrittenSpan);
                switch (type)
                {
                    case "Speak" when text is not null:
                        if (pending.Length + text.Length > MaxSpeakCharacters)
                        {
                            await SendJsonAsync(Warning("TEXT_TOO_LONG", $"Buffered text exceeds {MaxSpeakCharacters} characters; flush more often.")).ConfigureAwait(false);
                        }
                        else
                        {
                            pending.Append(text);

                            // Like Aura, speak a completed sentence without waiting for a Flush; the
                            // Flush at the end of an answer then only forces out the rest.
                            if (EndsSentence(pending))
                            {
                                jobs.Writer.TryWrite(new SpeakJob(pending.ToString(), Flush: false));
                                pending.Clear();
                            }
                        }

                        break;
                    case "Flush":
                        jobs.Writer.TryWrite(new SpeakJob(pending.ToString(), Flush: true));
                        pending.Clear();
                        break;
                    case "Clear":
                        Log("speak connection: Clear received");
                        pending.Clear();
                        Interlocked.Increment(ref clearGeneration);
                        while (jobs.Reader.TryRead(out _))
                        {
                        }

                        var sequence = clearSequence++;
                        await SendJsonAsync(DeepgramWire.Write(w =>
                        {
                            w.WriteString("type", "Cleared");
                            w.WriteNumber("sequence_id", sequence);
                        })).ConfigureAwait(false);
                        break;
                    case "Close":
                        jobs.Writer.TryWrite(null);
                        await worker.ConfigureAwait(false);
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, aborted).ConfigureAwait(false);
                        return;
                    default:
                        await SendJsonAsync(Warning("UNKNOWN_MESSAGE", "Unknown or malformed message; expected Speak, Flush, Clear or Close.")).ConfigureAwait(false);
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            Log($"speak connection ended: {ex.GetType().Name}");
        }
        finally
        {
            jobs.Writer.TryComplete();
            ArrayPool<byte>.Shared.Return(buffer);
            try
            {
                await worker.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
            {
                Log($"speak synthesis ended: {ex.GetType().Name}");
            }
        }
    }

    private static bool EndsSentence(StringBuilder text)
    {
        var end = text.Length - 1;
        while (end >= 0 && (char.IsWhiteSpace(text[end]) || text[end] is '"' or '\'' or ')' or '\u201D' or '\u2019'))
        {
            end--;
        }

        return end >= 0 && text[end] is '.' or '!' or '?' or '\u2026' or '\u3002' or '\uFF01' or '\uFF1F';
    }

    private static string Warning(string code, string description) => DeepgramWire.Write(w =>
    {
        w.WriteString("type", "Warning");
        w.WriteString("description", description);
        w.WriteString("code", code);
    });

    private static (string? Type, string? Text) ReadSpeakMessage(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                return (null, null);
            }

            var text = root.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            return (type.GetString(), text);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }
}

/// <summary>Text to synthesize on the speak socket; <paramref name="Flush"/> marks a Flush, which is acknowledged with <c>Flushed</c>.</summary>
internal sealed record SpeakJob(string Text, bool Flush);
