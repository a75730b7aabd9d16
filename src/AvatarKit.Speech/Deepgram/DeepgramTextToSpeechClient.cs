using System.Buffers;
using System.Globalization;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AvatarKit.Speech.Deepgram;

/// <summary>
/// Deepgram Aura text-to-speech as a Microsoft.Extensions.AI <see cref="ITextToSpeechClient"/>, returning
/// PCM16 mono at the requested rate. The REST endpoint is streamed: each chunk is delivered as it
/// arrives. Text that is itself streamed, such as an LLM answer, is spoken over the speak WebSocket by
/// the <see cref="GetStreamingAudioAsync(IAsyncEnumerable{string}, TextToSpeechOptions?, CancellationToken)"/>
/// overload, or sentence by sentence through a session from <see cref="ConnectAsync"/> (Speak, Flush, Clear).
/// </summary>
/// <remarks>
/// Audio arrives as <see cref="DataContent"/> with media type <c>audio/pcm;rate=N;channels=1</c>
/// (little-endian 16-bit samples, whole samples per chunk). Per call, <see cref="TextToSpeechOptions.VoiceId"/>
/// (or <see cref="TextToSpeechOptions.ModelId"/>) picks the voice, <see cref="TextToSpeechOptions.Speed"/> the
/// speed, and <see cref="TextToSpeechOptions.AdditionalProperties"/> <c>["sample_rate"]</c> the rate.
/// Thread-safe.
/// </remarks>
public sealed class DeepgramTextToSpeechClient : ITextToSpeechClient
{
    /// <summary>The key of the output sample rate (an integer) in <see cref="TextToSpeechOptions.AdditionalProperties"/>.</summary>
    public const string SampleRateKey = "sample_rate";

    private const int ChunkBytes = 8 * 1024;
    private readonly DeepgramOptions _options;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly ILogger _logger;
    private readonly TextToSpeechClientMetadata _metadata;

    /// <summary>Initializes a new client.</summary>
    /// <param name="options">The settings; validated now.</param>
    /// <param name="httpClient">The HTTP client; a private one when null.</param>
    /// <param name="logger">The logger; none when null.</param>
    /// <exception cref="ArgumentException">A setting is invalid (the message names it).</exception>
    public DeepgramTextToSpeechClient(DeepgramOptions options, HttpClient? httpClient = null, ILogger<DeepgramTextToSpeechClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        _options = options;
        _ownsHttp = httpClient is null;
        _http = httpClient ?? new HttpClient();
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _metadata = new TextToSpeechClientMetadata("deepgram", options.BaseUrl, options.Speak.Model);
    }

    /// <inheritdoc />
    public async Task<TextToSpeechResponse> GetAudioAsync(string text, TextToSpeechOptions? options = null, CancellationToken cancellationToken = default)
    {
        var updates = new List<TextToSpeechResponseUpdate>();
        await foreach (var update in GetStreamingAudioAsync(text, options, cancellationToken).ConfigureAwait(false))
        {
            updates.Add(update);
        }

        var (rate, model) = Resolve(options);
        var audio = updates.SelectMany(u => u.Contents).OfType<DataContent>().SelectMany(d => d.Data.ToArray()).ToArray();
        return new TextToSpeechResponse([new DataContent(audio, GetMediaType(rate))]) { ModelId = model, ResponseId = updates.FirstOrDefault()?.ResponseId };
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<TextToSpeechResponseUpdate> GetStreamingAudioAsync(string text, TextToSpeechOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        var (rate, model) = Resolve(options);
        var url = DeepgramTransport.BuildUri(_options.BaseUrl, "/v1/speak", webSocket: false, Query(options, rate, model, rest: true));
        using var request = new HttpRequestMessage(HttpMethod.Post, url)
        {
            Content = new StringContent(JsonSerializer.Serialize(new Dictionary<string, string> { ["text"] = text }), Encoding.UTF8, "application/json"),
        };
        request.Headers.TryAddWithoutValidation("Authorization", DeepgramTransport.Authorization(_options.ApiKey!));
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await DeepgramTransport.EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var requestId = response.Headers.TryGetValues("dg-request-id", out var ids) ? ids.FirstOrDefault() : null;
        var mediaType = GetMediaType(rate);
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            var carried = 0;
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(carried, ChunkBytes - carried), cancellationToken).ConfigureAwait(false)) > 0)
            {
                // Hand out whole samples only; an odd byte waits for its partner.
                var available = carried + read;
                var whole = available & ~1;
                carried = available - whole;
                if (whole == 0)
                {
                    continue;
                }

                var chunk = buffer.AsSpan(0, whole).ToArray();
                buffer[0] = buffer[whole];
                yield return new TextToSpeechResponseUpdate([new DataContent(chunk, mediaType)])
                {
                    Kind = TextToSpeechResponseUpdateKind.AudioUpdating,
                    ModelId = model,
                    ResponseId = requestId,
                };
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Speaks text that is still being written (LLM tokens, for example) over one speak WebSocket: each
    /// sentence is sent as soon as it is complete, a Flush follows the last one, and audio is yielded as it
    /// arrives, so the first sentence is heard while later ones are still being written.
    /// </summary>
    /// <param name="textChunks">The text, in chunks of any size; sentences are found with <see cref="SentenceChunker"/>.</param>
    /// <param name="options">The voice, speed and <c>sample_rate</c>; may be null.</param>
    /// <param name="cancellationToken">Stops speaking: Deepgram is told to Clear what it has not sent yet, then the socket closes.</param>
    /// <returns>PCM16 chunks (<see cref="TextToSpeechResponseUpdateKind.AudioUpdating"/>), in the order of the text.</returns>
    /// <exception cref="DeepgramException">The connection was refused or closed with an error.</exception>
    /// <remarks>
    /// One Flush per answer keeps within Deepgram's limit of 20 flushes a minute; Aura speaks completed
    /// sentences without one. Stopping the enumeration early also sends Clear. An exception thrown by
    /// <paramref name="textChunks"/> ends the enumeration with that exception.
    /// </remarks>
    public async IAsyncEnumerable<TextToSpeechResponseUpdate> GetStreamingAudioAsync(
        IAsyncEnumerable<string> textChunks, TextToSpeechOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(textChunks);
        var session = await ConnectAsync(options, cancellationToken).ConfigureAwait(false);
        await using (session.ConfigureAwait(false))
        {
            // The pump does not use the caller's token: cancelling a receive aborts the socket, and the
            // Clear must still go out first.
            using var stop = new CancellationTokenSource();
            var audio = Channel.CreateBounded<TextToSpeechResponseUpdate>(new BoundedChannelOptions(64) { SingleReader = true, SingleWriter = true });
            var pump = PumpSentencesAsync(session, textChunks, audio.Writer, stop.Token);
            var finished = false;
            try
            {
                await foreach (var update in audio.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    yield return update;
                }

                finished = true;
            }
            finally
            {
                if (!finished)
                {
                    await ClearQuietlyAsync(session).ConfigureAwait(false);
                }

                await stop.CancelAsync().ConfigureAwait(false);
                await pump.ConfigureAwait(false);
            }
        }
    }

    /// <summary>Opens the speak WebSocket: send text as it comes, flush at sentence ends, clear on barge-in.</summary>
    /// <param name="options">The voice, speed and <c>sample_rate</c>; may be null.</param>
    /// <param name="cancellationToken">Cancels the connection attempt.</param>
    /// <returns>The open session; dispose it to close the socket.</returns>
    /// <exception cref="DeepgramException">The connection was refused.</exception>
    public async Task<DeepgramSpeakSession> ConnectAsync(TextToSpeechOptions? options = null, CancellationToken cancellationToken = default)
    {
        var (rate, model) = Resolve(options);
        var url = DeepgramTransport.BuildUri(_options.BaseUrl, "/v1/speak", webSocket: true, Query(options, rate, model, rest: false));
        var socket = await DeepgramTransport.ConnectAsync(url, _options.ApiKey!, cancellationToken).ConfigureAwait(false);
        return new DeepgramSpeakSession(socket, GetMediaType(rate), model, _logger);
    }

    /// <summary>Sends sentences and reads audio until the closing Flush is acknowledged; completes <paramref name="audio"/> (with the error, if any).</summary>
    private static async Task PumpSentencesAsync(DeepgramSpeakSession session, IAsyncEnumerable<string> textChunks, ChannelWriter<TextToSpeechResponseUpdate> audio, CancellationToken cancellationToken)
    {
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sending = SendSentencesAsync(session, textChunks, reading, cancellationToken);
        try
        {
            await foreach (var update in session.ReadUpdatesAsync(reading.Token).ConfigureAwait(false))
            {
                if (update.Kind == TextToSpeechResponseUpdateKind.AudioUpdating)
                {
                    await audio.WriteAsync(update, cancellationToken).ConfigureAwait(false);
                }
                else if (update.Kind == TextToSpeechResponseUpdateKind.AudioUpdated)
                {
                    // The only Flush is the one after the last sentence: all audio is in.
                    break;
                }
            }

            await sending.ConfigureAwait(false);
            audio.TryComplete();
        }
        catch (Exception ex)
        {
            var error = ex;
            if (ex is OperationCanceledException && reading.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                // The sender cancelled the read because the text source (or a send) failed, and it is rethrowing
                // that error now: wait for it and report it rather than the cancellation.
                try
                {
                    await sending.ConfigureAwait(false);
                }
                catch (Exception sendError)
                {
                    error = sendError;
                }
            }

            audio.TryComplete(error);
            try
            {
                await sending.ConfigureAwait(false);
            }
            catch (Exception sendError) when (sendError is OperationCanceledException || sending.IsFaulted)
            {
                // Already reported through the channel.
            }
        }
    }

    private static async Task SendSentencesAsync(DeepgramSpeakSession session, IAsyncEnumerable<string> textChunks, CancellationTokenSource reading, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var sentence in SentenceChunker.SplitAsync(textChunks, cancellationToken).ConfigureAwait(false))
            {
                // The trailing space keeps sentences apart: Deepgram concatenates what it is sent.
                await session.SpeakAsync(sentence + " ", cancellationToken).ConfigureAwait(false);
            }

            await session.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await reading.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task ClearQuietlyAsync(DeepgramSpeakSession session)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await session.ClearAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The socket is already gone; nothing is left to clear.
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(TextToSpeechClientMetadata) ? _metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    internal static string GetMediaType(int sampleRate) => $"audio/pcm;rate={sampleRate.ToString(CultureInfo.InvariantCulture)};channels=1";

    private (int Rate, string Model) Resolve(TextToSpeechOptions? options)
    {
        var rate = options?.AdditionalProperties?.TryGetValue(SampleRateKey, out var value) == true
            ? Convert.ToInt32(value, CultureInfo.InvariantCulture)
            : _options.Speak.SampleRate;
        var speak = new DeepgramSpeakOptions { Model = options?.VoiceId ?? options?.ModelId ?? _options.Speak.Model, SampleRate = rate };
        if (speak.Validate().FirstOrDefault() is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        return (rate, speak.Model);
    }

    private static List<KeyValuePair<string, string>> Query(TextToSpeechOptions? options, int rate, string model, bool rest)
    {
        var query = new List<KeyValuePair<string, string>>
        {
            new("model", model),
            new("encoding", "linear16"),
            new("sample_rate", DeepgramTransport.Int(rate)),
        };
        if (rest)
        {
            query.Add(new("container", "none"));
        }

        if (options?.Speed is { } speed)
        {
            query.Add(new("speed", speed.ToString(CultureInfo.InvariantCulture)));
        }

        return query;
    }
}
