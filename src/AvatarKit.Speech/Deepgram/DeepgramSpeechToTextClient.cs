using System.Net.Http.Headers;
using System.Text.Json;
using AvatarKit.Speech.Capture;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AvatarKit.Speech.Deepgram;

/// <summary>
/// Deepgram speech-to-text as a Microsoft.Extensions.AI <see cref="ISpeechToTextClient"/>: live
/// transcription over the <c>/v1/listen</c> WebSocket (interim and final text, turn signals, word
/// times, keep-alive, reconnect without losing speech) and pre-recorded transcription of files.
/// </summary>
/// <remarks>
/// <para>Streaming updates: <see cref="SpeechToTextResponseUpdateKind.SessionOpen"/> when connected;
/// <see cref="SpeechToTextResponseUpdateKind.TextUpdating"/> for interim results and
/// <see cref="SpeechToTextResponseUpdateKind.TextUpdated"/> for final ones (see
/// <see cref="DeepgramSpeechProperties"/> for <c>speech_final</c>, words and more);
/// <see cref="DeepgramSpeechUpdateKinds.SpeechStarted"/> and <see cref="DeepgramSpeechUpdateKinds.UtteranceEnd"/>;
/// <see cref="SpeechToTextResponseUpdateKind.SessionClose"/> after the audio ended. Times are on the
/// stream's clock and stay monotonic across reconnects.</para>
/// <para>Per call, <see cref="SpeechToTextOptions.ModelId"/>, <see cref="SpeechToTextOptions.SpeechLanguage"/> and
/// <see cref="SpeechToTextOptions.SpeechSampleRate"/> override <see cref="DeepgramListenOptions"/>.</para>
/// <para>Thread-safe: one instance serves any number of concurrent transcriptions. Errors surface as
/// <see cref="DeepgramException"/> naming the reason (bad key, bad audio format, timeout…).</para>
/// </remarks>
public sealed class DeepgramSpeechToTextClient : ISpeechToTextClient
{
    private readonly DeepgramOptions _options;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly ILogger _logger;
    private readonly SpeechToTextClientMetadata _metadata;

    /// <summary>Initializes a new client.</summary>
    /// <param name="options">The settings; validated now.</param>
    /// <param name="httpClient">The HTTP client for pre-recorded requests; a private one when null.</param>
    /// <param name="logger">The logger; none when null.</param>
    /// <exception cref="ArgumentException">A setting is invalid (the message names it).</exception>
    public DeepgramSpeechToTextClient(DeepgramOptions options, HttpClient? httpClient = null, ILogger<DeepgramSpeechToTextClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        _options = options;
        _ownsHttp = httpClient is null;
        _http = httpClient ?? new HttpClient();
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _metadata = new SpeechToTextClientMetadata("deepgram", options.BaseUrl, options.Listen.Model);
    }

    /// <summary>Transcribes raw PCM16 (in <see cref="DeepgramListenOptions.SampleRate"/> and channels) or a WAV stream, live.</summary>
    /// <inheritdoc />
    public IAsyncEnumerable<SpeechToTextResponseUpdate> GetStreamingTextAsync(Stream audioSpeechStream, SpeechToTextOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(audioSpeechStream);
        var format = GetFormat(options);
        return GetStreamingTextAsync(StreamAudioInput.FromStream(audioSpeechStream, leaveOpen: true).CaptureAsync(format, cancellationToken), options, controller: null, cancellationToken);
    }

    /// <summary>Transcribes live audio frames (converted to the requested format when they differ) until they end.</summary>
    /// <param name="audio">The frames; each is disposed after sending.</param>
    /// <param name="options">Per-call overrides; may be null.</param>
    /// <param name="controller">Sends <c>Finalize</c> on demand while the stream runs; may be null.</param>
    /// <param name="cancellationToken">Stops the transcription.</param>
    /// <returns>The updates, ending after Deepgram's closing metadata.</returns>
    /// <exception cref="DeepgramException">The connection was refused or closed with an error.</exception>
    public IAsyncEnumerable<SpeechToTextResponseUpdate> GetStreamingTextAsync(IAsyncEnumerable<AudioFrame> audio, SpeechToTextOptions? options = null, DeepgramListenController? controller = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(audio);
        var format = GetFormat(options);
        var model = options?.ModelId ?? _options.Listen.Model;
        var url = DeepgramTransport.BuildUri(_options.BaseUrl, "/v1/listen", webSocket: true, BuildQuery(options, format, live: true));
        var session = new ListenSession(url, _options.ApiKey!, model, format, _options.Listen, _logger);
        return session.RunAsync(audio, controller, cancellationToken);
    }

    /// <summary>Transcribes a whole recording with pre-recorded transcription (<c>POST /v1/listen</c>): a WAV stream, or raw PCM16 in the listen format.</summary>
    /// <inheritdoc />
    public async Task<SpeechToTextResponse> GetTextAsync(Stream audioSpeechStream, SpeechToTextOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(audioSpeechStream);
        var format = GetFormat(options);
        using var body = new StreamContent(audioSpeechStream);
        var url = DeepgramTransport.BuildUri(_options.BaseUrl, "/v1/listen", webSocket: false, BuildQuery(options, format, live: false));
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = body };
        request.Headers.TryAddWithoutValidation("Authorization", DeepgramTransport.Authorization(_options.ApiKey!));
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await DeepgramTransport.EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var json = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return ParsePrerecorded(json, options?.ModelId ?? _options.Listen.Model);
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(SpeechToTextClientMetadata) ? _metadata
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

    private AudioFormat GetFormat(SpeechToTextOptions? options) => new(options?.SpeechSampleRate ?? _options.Listen.SampleRate, _options.Listen.Channels);

    private List<KeyValuePair<string, string>> BuildQuery(SpeechToTextOptions? options, AudioFormat format, bool live)
    {
        var listen = _options.Listen;
        var query = new List<KeyValuePair<string, string>>
        {
            new("model", options?.ModelId ?? listen.Model),
            new("language", options?.SpeechLanguage ?? listen.Language),
            new("encoding", listen.Encoding),
            new("sample_rate", DeepgramTransport.Int(format.SampleRate)),
            new("channels", DeepgramTransport.Int(format.Channels)),
            new("punctuate", DeepgramTransport.Bool(listen.Punctuate)),
            new("smart_format", DeepgramTransport.Bool(listen.SmartFormat)),
        };
        if (live)
        {
            query.Add(new("interim_results", DeepgramTransport.Bool(listen.InterimResults)));
            query.Add(new("endpointing", listen.Endpointing is { } e ? DeepgramTransport.Int((int)e.TotalMilliseconds) : "false"));
            query.Add(new("vad_events", DeepgramTransport.Bool(listen.VadEvents)));
            if (listen.UtteranceEnd is { } u)
            {
                query.Add(new("utterance_end_ms", DeepgramTransport.Int((int)u.TotalMilliseconds)));
            }
        }

        foreach (var term in listen.Keyterms)
        {
            query.Add(new("keyterm", term));
        }

        return query;
    }

    private static SpeechToTextResponse ParsePrerecorded(byte[] json, string model)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            var alternative = root.GetProperty("results").GetProperty("channels")[0].GetProperty("alternatives")[0];
            var words = new List<DeepgramWord>();
            if (alternative.TryGetProperty("words", out var wordArray))
            {
                foreach (var w in wordArray.EnumerateArray())
                {
                    var word = w.GetProperty("word").GetString()!;
                    words.Add(new DeepgramWord(
                        word,
                        w.TryGetProperty("punctuated_word", out var p) ? p.GetString() ?? word : word,
                        TimeSpan.FromSeconds(w.GetProperty("start").GetDouble()),
                        TimeSpan.FromSeconds(w.GetProperty("end").GetDouble()),
                        w.TryGetProperty("confidence", out var c) ? c.GetDouble() : 0));
                }
            }

            var requestId = root.TryGetProperty("metadata", out var metadata) && metadata.TryGetProperty("request_id", out var id) ? id.GetString() : null;
            return new SpeechToTextResponse(alternative.GetProperty("transcript").GetString() ?? string.Empty)
            {
                ResponseId = requestId,
                ModelId = model,
                StartTime = words.Count > 0 ? words[0].Start : null,
                EndTime = words.Count > 0 ? words[^1].End : null,
                AdditionalProperties = new()
                {
                    [DeepgramSpeechProperties.Words] = words,
                    [DeepgramSpeechProperties.Confidence] = alternative.TryGetProperty("confidence", out var confidence) ? confidence.GetDouble() : 0.0,
                    [DeepgramSpeechProperties.RequestId] = requestId,
                },
            };
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException or FormatException)
        {
            throw new DeepgramException("Deepgram returned a pre-recorded transcription this client cannot read: " + ex.Message, ex);
        }
    }
}
