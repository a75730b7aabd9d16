using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using AvatarKit.Llm.Gemini;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AvatarKit.Llm;

/// <summary>
/// Google Gemini as an <see cref="IChatClient"/>, over the REST API (<c>generateContent</c> and
/// <c>streamGenerateContent?alt=sse</c>). Streaming yields one update per server event as soon as it
/// arrives. Register it with <c>.AddGemini()</c>, or construct it over an <see cref="HttpClient"/>
/// that you configure (retries are added by <c>.AddGemini()</c>'s HTTP client).
/// </summary>
/// <remarks>
/// <para>
/// System messages and <see cref="ChatOptions.Instructions"/> become <c>systemInstruction</c>;
/// <see cref="AIFunctionDeclaration"/> tools become function declarations and calls come back as
/// <see cref="FunctionCallContent"/>, so <c>UseFunctionInvocation()</c> works. Gemini-only settings go
/// in <see cref="ChatOptions.AdditionalProperties"/>: <c>thinkingBudget</c> (int),
/// <c>thinkingLevel</c> (string), <c>includeThoughts</c> (bool; thoughts arrive as
/// <see cref="TextReasoningContent"/>). A blocked prompt or answer finishes with
/// <see cref="ChatFinishReason.ContentFilter"/> and an <see cref="ErrorContent"/> naming Google's reason.
/// Failures throw <see cref="GeminiApiException"/>, including a stream that ends without a finish reason.
/// </para>
/// <para>Thread-safe: one instance serves concurrent calls.</para>
/// </remarks>
public sealed partial class GeminiChatClient : IChatClient
{
    private const string ApiKeyHeader = "x-goog-api-key";
    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json");

    private readonly HttpClient _httpClient;
    private readonly GeminiOptions _options;
    private readonly ILogger _logger;
    private readonly ChatClientMetadata _metadata;

    /// <summary>Initializes a new <see cref="GeminiChatClient"/>.</summary>
    /// <param name="httpClient">The HTTP client requests go through; its handlers (retries, logging) apply.</param>
    /// <param name="options">The settings; <see cref="GeminiOptions.ApiKey"/> must be set.</param>
    /// <param name="logger">Where to log; never receives the API key or message text.</param>
    public GeminiChatClient(HttpClient httpClient, GeminiOptions options, ILogger<GeminiChatClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.ApiKey, nameof(options));
        _httpClient = httpClient;
        _options = options;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _metadata = new ChatClientMetadata("gcp.gemini", options.BaseUrl, options.Model);
    }

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var model = GeminiChatMapper.ResolveModel(options, _options);
        var body = GeminiChatMapper.CreateRequest(messages, options, _options);
        Log.Requesting(_logger, model, streaming: false);
        using var request = CreatePost(model, "generateContent", query: null, body);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, "generateContent", cancellationToken).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var result = Deserialize(bytes, "generateContent");
        var chatResponse = GeminiChatMapper.ToChatResponse(result);
        LogFinished(model, chatResponse.FinishReason, result);
        return chatResponse;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var model = GeminiChatMapper.ResolveModel(options, _options);
        var body = GeminiChatMapper.CreateRequest(messages, options, _options);
        for (var attempt = 0; ; attempt++)
        {
            // HTTP errors are retried by the HTTP client's resilience handler; this loop retries a
            // stream that failed after its 200 but before it produced any update.
            var state = new StreamState();
            var updates = StreamOnceAsync(model, body, state, cancellationToken).GetAsyncEnumerator(cancellationToken);
            await using var scope = updates.ConfigureAwait(false);
            TimeSpan? retryDelay = null;
            while (true)
            {
                try
                {
                    if (!await updates.MoveNextAsync().ConfigureAwait(false))
                    {
                        break;
                    }
                }
                catch (GeminiApiException exception) when (state is { Started: true, Yielded: false } && exception.IsTransient && attempt < _options.MaxRetries
                    && (exception.RetryAfter ?? TimeSpan.Zero) <= _options.MaxRetryDelay)
                {
                    retryDelay = exception.RetryAfter ?? _options.RetryBaseDelay * Math.Pow(2, attempt);
                    Log.RetryingStream(_logger, model, exception.ProviderCode, retryDelay.Value.TotalMilliseconds);
                    break;
                }

                state.Yielded = true;
                yield return updates.Current;
            }

            if (retryDelay is not { } delay)
            {
                yield break;
            }

            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    private async IAsyncEnumerable<ChatResponseUpdate> StreamOnceAsync(string model, GenerateContentRequest body, StreamState state, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Log.Requesting(_logger, model, streaming: true);
        using var request = CreatePost(model, "streamGenerateContent", "alt=sse", body);
        using var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, "streamGenerateContent", cancellationToken).ConfigureAwait(false);
        state.Started = true;
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using var streamScope = stream.ConfigureAwait(false);
        using var reader = new SseEventReader(stream);
        GenerateContentResponse? last = null;
        var finished = false;
        while (true)
        {
            GenerateContentResponse chunk;
            try
            {
                idle.CancelAfter(_options.StreamIdleTimeout);
                if (!await reader.MoveNextAsync(idle.Token).ConfigureAwait(false))
                {
                    break;
                }

                // The consumer's time between updates (e.g. speaking) must not count as silence.
                idle.CancelAfter(Timeout.InfiniteTimeSpan);
                chunk = Deserialize(reader.Current.Span, "streamGenerateContent");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw Incomplete(model, $"no data for {_options.StreamIdleTimeout.TotalSeconds:0.#} s; the stream stalled", inner: null);
            }
            catch (IOException exception)
            {
                throw Incomplete(model, exception is SseTruncatedException ? "the stream ended in the middle of an event" : "the connection was cut", exception);
            }

            if (chunk.Error is { } error)
            {
                Log.StreamFailed(_logger, model, error.Status ?? error.Code.ToString(System.Globalization.CultureInfo.InvariantCulture));
                throw GoogleErrors.Create(error, "streamGenerateContent", statusCode: null);
            }

            finished |= GeminiChatMapper.IsFinal(chunk);
            last = chunk;
            var update = GeminiChatMapper.ToUpdate(chunk);
            if (finished)
            {
                LogFinished(model, update.FinishReason, chunk);
            }

            yield return update;
        }

        if (!finished)
        {
            throw Incomplete(model, last is null ? "the stream closed before any answer" : "the stream closed without a finish reason", inner: null);
        }
    }

    /// <summary>Lists the models the API key can use (<c>models.list</c>, all pages); a quick check that the key works.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The models.</returns>
    public async Task<IReadOnlyList<GeminiModel>> ListModelsAsync(CancellationToken cancellationToken = default)
    {
        var models = new List<GeminiModel>();
        string? pageToken = null;
        do
        {
            var query = "pageSize=1000" + (pageToken is null ? "" : "&pageToken=" + Uri.EscapeDataString(pageToken));
            using var request = new HttpRequestMessage(HttpMethod.Get, BuildUri("models", query));
            var page = await GetJsonAsync(request, GeminiJsonContext.Default.ListModelsResponse, "models.list", cancellationToken).ConfigureAwait(false);
            models.AddRange((page.Models ?? []).Select(ToModel));
            pageToken = string.IsNullOrEmpty(page.NextPageToken) ? null : page.NextPageToken;
        }
        while (pageToken is not null);
        return models;
    }

    /// <summary>Gets one model (<c>models.get</c>); fails with 404 when the model does not exist.</summary>
    /// <param name="modelId">The model id; the configured model when null.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The model.</returns>
    public async Task<GeminiModel> GetModelAsync(string? modelId = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, BuildUri(ModelPath(modelId ?? _options.Model), query: null));
        return ToModel(await GetJsonAsync(request, GeminiJsonContext.Default.ModelResource, "models.get", cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(ChatClientMetadata) ? _metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // The HttpClient belongs to the caller (or the HTTP client factory).
    }

    private static string ModelPath(string model) => model.Contains('/', StringComparison.Ordinal) ? model : "models/" + model;

    private static GeminiModel ToModel(ModelResource model) => new(
        model.Name.StartsWith("models/", StringComparison.Ordinal) ? model.Name["models/".Length..] : model.Name,
        model.DisplayName,
        model.Description,
        model.InputTokenLimit,
        model.OutputTokenLimit,
        model.SupportedGenerationMethods ?? [],
        model.Thinking ?? false);

    private static GenerateContentResponse Deserialize(ReadOnlySpan<byte> json, string operation)
    {
        try
        {
            return JsonSerializer.Deserialize(json, GeminiJsonContext.Default.GenerateContentResponse)
                ?? throw new JsonException("The body is JSON null.");
        }
        catch (JsonException exception)
        {
            throw new GeminiApiException(
                $"Gemini {operation} sent a body that is not a GenerateContentResponse: {exception.Message}",
                HttpStatusCode.OK,
                GeminiApiException.MalformedResponseCode,
                providerMessage: null,
                exception);
        }
    }

    private GeminiApiException Incomplete(string model, string reason, Exception? inner)
    {
        Log.StreamFailed(_logger, model, reason);
        return new GeminiApiException(
            $"Gemini's streamed answer is incomplete: {reason}. Updates already received are valid but the answer did not finish.",
            HttpStatusCode.OK,
            GeminiApiException.IncompleteStreamCode,
            providerMessage: null,
            inner);
    }

    private Uri BuildUri(string path, string? query)
    {
        var origin = _options.BaseUrl.ToString().TrimEnd('/');
        return new Uri($"{origin}/{_options.ApiVersion}/{path}{(query is null ? "" : "?" + query)}");
    }

    private HttpRequestMessage CreatePost(string model, string method, string? query, GenerateContentRequest body)
    {
        var content = new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, GeminiJsonContext.Wire.GenerateContentRequest));
        content.Headers.ContentType = JsonMediaType;
        return new HttpRequestMessage(HttpMethod.Post, BuildUri($"{ModelPath(model)}:{method}", query)) { Content = content };
    }

    private async Task<T> GetJsonAsync<T>(HttpRequestMessage request, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, string operation, CancellationToken cancellationToken)
        where T : class
    {
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, operation, cancellationToken).ConfigureAwait(false);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize(bytes, typeInfo) ?? throw new JsonException("The body is JSON null.");
        }
        catch (JsonException exception)
        {
            throw new GeminiApiException($"Gemini {operation} sent an unexpected body: {exception.Message}", response.StatusCode, GeminiApiException.MalformedResponseCode, null, exception);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption completion, string operation, CancellationToken cancellationToken)
    {
        request.Headers.TryAddWithoutValidation(ApiKeyHeader, _options.ApiKey);
        HttpResponseMessage response;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            response = await _httpClient.SendAsync(request, completion, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
        {
            throw new GeminiApiException($"Gemini {operation} did not answer within {_options.RequestTimeout.TotalSeconds:0.#} s.", HttpStatusCode.RequestTimeout, "DEADLINE_EXCEEDED", null, exception);
        }
        catch (HttpRequestException exception)
        {
            throw new GeminiApiException($"Could not reach Gemini at {_options.BaseUrl.GetLeftPart(UriPartial.Authority)}: {exception.Message}", exception);
        }

        if (!response.IsSuccessStatusCode)
        {
            using (response)
            {
                var error = await GoogleErrors.FromResponseAsync(response, operation, cancellationToken).ConfigureAwait(false);
                Log.RequestFailed(_logger, operation, (int)response.StatusCode, error.ProviderCode);
                throw error;
            }
        }

        return response;
    }

    private void LogFinished(string model, ChatFinishReason? finishReason, GenerateContentResponse response)
    {
        if (finishReason == ChatFinishReason.ContentFilter)
        {
            Log.Blocked(_logger, model, response.PromptFeedback?.BlockReason ?? response.Candidates?[0].FinishReason);
        }

        Log.Finished(_logger, model, finishReason?.Value, response.UsageMetadata?.PromptTokenCount, response.UsageMetadata?.CandidatesTokenCount);
    }

    private sealed class StreamState
    {
        public bool Started { get; set; }

        public bool Yielded { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(6, LogLevel.Warning, "Gemini {Model} stream failed before any update ({ProviderCode}); retrying in {DelayMs} ms.")]
        public static partial void RetryingStream(ILogger logger, string model, string? providerCode, double delayMs);

        [LoggerMessage(1, LogLevel.Debug, "Gemini request to {Model} (streaming: {Streaming}).")]
        public static partial void Requesting(ILogger logger, string model, bool streaming);

        [LoggerMessage(2, LogLevel.Debug, "Gemini {Model} finished: {FinishReason}, {InputTokens} input / {OutputTokens} output tokens.")]
        public static partial void Finished(ILogger logger, string model, string? finishReason, int? inputTokens, int? outputTokens);

        [LoggerMessage(3, LogLevel.Warning, "Gemini {Operation} failed with HTTP {Status} {ProviderCode}.")]
        public static partial void RequestFailed(ILogger logger, string operation, int status, string? providerCode);

        [LoggerMessage(4, LogLevel.Warning, "Gemini {Model} stream failed: {Reason}.")]
        public static partial void StreamFailed(ILogger logger, string model, string reason);

        [LoggerMessage(5, LogLevel.Warning, "Gemini {Model} blocked the conversation: {Reason}.")]
        public static partial void Blocked(ILogger logger, string model, string? reason);
    }
}
