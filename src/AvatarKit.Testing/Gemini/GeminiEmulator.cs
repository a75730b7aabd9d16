using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace AvatarKit.Testing.Gemini;

/// <summary>
/// A local Gemini REST server (Kestrel on 127.0.0.1, a free port) that behaves like
/// <c>generativelanguage.googleapis.com</c> as documented in the AvatarKit Gemini spec:
/// <c>generateContent</c>, <c>streamGenerateContent?alt=sse</c>, <c>countTokens</c>,
/// <c>models.list</c> and <c>models.get</c> under both <c>/v1</c> and <c>/v1beta</c>, the
/// <c>x-goog-api-key</c> header or <c>key</c> query check, Google's error envelopes, and SSE framed
/// as <c>data: {json}\r\n\r\n</c>. Answers come from rules, a queue or a default, streamed at a
/// configurable time to first token and speed; faults can be queued.
/// </summary>
/// <remarks>Thread-safe. Its wire shapes are its own (JSON nodes), never shared with the client.</remarks>
public sealed partial class GeminiEmulator : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly ConcurrentQueue<GeminiEmulatorAnswer> _answers = new();
    private readonly ConcurrentQueue<GeminiEmulatorFault> _faults = new();
    private readonly List<Func<GeminiEmulatorRequest, GeminiEmulatorAnswer?>> _rules = [];
    private readonly List<GeminiEmulatorRequest> _requests = [];
    private readonly Lock _lock = new();
    private int _responseCounter;
    private EmulatorServer? _server;

    private GeminiEmulator(GeminiEmulatorOptions options)
    {
        Options = options;
    }

    /// <summary>Gets the settings; changes apply to the next request.</summary>
    public GeminiEmulatorOptions Options { get; }

    /// <summary>Gets the origin to use as the client's base URL, e.g. <c>http://127.0.0.1:5123</c>.</summary>
    public Uri BaseUrl => _server?.BaseUrl ?? throw new InvalidOperationException("The emulator is not started.");

    /// <summary>Gets the API key the emulator accepts.</summary>
    public string ApiKey => Options.ApiKey;

    /// <summary>Gets a snapshot of the requests received so far.</summary>
    public IReadOnlyList<GeminiEmulatorRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Starts an emulator on loopback and <see cref="GeminiEmulatorOptions.Port"/> (a free port by default).</summary>
    /// <param name="options">Settings; defaults when null.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running emulator.</returns>
    public static async Task<GeminiEmulator> StartAsync(GeminiEmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        var emulator = new GeminiEmulator(options ?? new GeminiEmulatorOptions());
        emulator._server = await EmulatorServer.StartAsync(emulator.Options.Port, hooks: null, app => app.Run(emulator.HandleAsync), cancellationToken).ConfigureAwait(false);
        return emulator;
    }

    /// <summary>Queues an answer for the next generate request no rule answers.</summary>
    /// <param name="answer">The answer.</param>
    public void Enqueue(GeminiEmulatorAnswer answer) => _answers.Enqueue(answer ?? throw new ArgumentNullException(nameof(answer)));

    /// <summary>Adds a rule, tried in order before the queue; it returns null to pass.</summary>
    /// <param name="rule">The rule.</param>
    public void AddRule(Func<GeminiEmulatorRequest, GeminiEmulatorAnswer?> rule)
    {
        ArgumentNullException.ThrowIfNull(rule);
        lock (_lock)
        {
            _rules.Add(rule);
        }
    }

    /// <summary>Queues a fault; each generate request (unary or streaming) takes one.</summary>
    /// <param name="fault">The fault.</param>
    public void EnqueueFault(GeminiEmulatorFault fault) => _faults.Enqueue(fault ?? throw new ArgumentNullException(nameof(fault)));

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _server?.DisposeAsync() ?? ValueTask.CompletedTask;

    [GeneratedRegex(@"^/(?<version>v1|v1beta|v1alpha)/models(?:/(?<rest>.+))?$")]
    private static partial Regex RouteRegex();

    [GeneratedRegex(@"\S+\s*")]
    private static partial Regex WordRegex();

    private async Task HandleAsync(HttpContext context)
    {
        var http = context.Request;
        var body = await new StreamReader(http.Body, Encoding.UTF8).ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
        var match = RouteRegex().Match(http.Path.Value ?? "");
        string? model = null, operation = null;
        if (match.Success && match.Groups["rest"].Success)
        {
            var rest = match.Groups["rest"].Value;
            var colon = rest.LastIndexOf(':');
            model = colon < 0 ? rest : rest[..colon];
            operation = colon < 0 ? null : rest[(colon + 1)..];
        }

        JsonObject? json = null;
        try
        {
            json = body.Length > 0 ? JsonNode.Parse(body) as JsonObject : null;
        }
        catch (JsonException)
        {
        }

        var request = new GeminiEmulatorRequest(
            http.Method,
            http.Path.Value ?? "",
            http.QueryString.Value ?? "",
            body,
            http.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Key.Equals("x-goog-api-key", StringComparison.OrdinalIgnoreCase) ? "***" : h.Value.ToString()),
            DateTimeOffset.UtcNow)
        { Json = json, Model = model, Operation = operation };
        lock (_lock)
        {
            _requests.Add(request);
        }

        if (!match.Success)
        {
            await WriteErrorAsync(context, 404, "NOT_FOUND", $"The requested URL {http.Path} was not found on this server.").ConfigureAwait(false);
            return;
        }

        var key = http.Headers["x-goog-api-key"].ToString() is { Length: > 0 } header ? header : http.Query["key"].ToString();
        if (key.Length == 0)
        {
            await WriteErrorAsync(context, 403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.").ConfigureAwait(false);
            return;
        }

        if (!string.Equals(key, Options.ApiKey, StringComparison.Ordinal))
        {
            await WriteErrorAsync(context, 400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", InvalidKeyDetails()).ConfigureAwait(false);
            return;
        }

        var version = match.Groups["version"].Value;
        if (model is null)
        {
            if (!HttpMethods.IsGet(http.Method))
            {
                await WriteErrorAsync(context, 404, "NOT_FOUND", "Method not found.").ConfigureAwait(false);
                return;
            }

            await ListModelsAsync(context).ConfigureAwait(false);
            return;
        }

        var id = model;
        if (!Options.Models.Contains(id))
        {
            await WriteErrorAsync(context, 404, "NOT_FOUND", $"models/{id} is not found for API version {version}, or is not supported for {operation ?? "get"}. Call ListModels to see the list of available models and their supported methods.").ConfigureAwait(false);
            return;
        }

        switch (operation)
        {
            case null when HttpMethods.IsGet(http.Method):
                await WriteJsonAsync(context, 200, ModelJson(id)).ConfigureAwait(false);
                return;
            case "countTokens" when HttpMethods.IsPost(http.Method):
                if (!await CheckContentsAsync(context, request).ConfigureAwait(false))
                {
                    return;
                }

                var tokens = EstimateTokens(json!["contents"] ?? json["generateContentRequest"]?["contents"]);
                await WriteJsonAsync(context, 200, new JsonObject
                {
                    ["totalTokens"] = tokens,
                    ["promptTokensDetails"] = new JsonArray(new JsonObject { ["modality"] = "TEXT", ["tokenCount"] = tokens }),
                }).ConfigureAwait(false);
                return;
            case "generateContent" or "streamGenerateContent" when HttpMethods.IsPost(http.Method):
                if (await CheckContentsAsync(context, request).ConfigureAwait(false))
                {
                    await GenerateAsync(context, request, id, streaming: operation == "streamGenerateContent").ConfigureAwait(false);
                }

                return;
            default:
                await WriteErrorAsync(context, 404, "NOT_FOUND", $"Method {operation} not found for models/{id}.").ConfigureAwait(false);
                return;
        }
    }

    private static async Task<bool> CheckContentsAsync(HttpContext context, GeminiEmulatorRequest request)
    {
        if (request.Json is null)
        {
            await WriteErrorAsync(context, 400, "INVALID_ARGUMENT", "Invalid JSON payload received. Unexpected token.").ConfigureAwait(false);
            return false;
        }

        var contents = request.Json["contents"] ?? request.Json["generateContentRequest"]?["contents"];
        if (contents is not JsonArray { Count: > 0 })
        {
            await WriteErrorAsync(context, 400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified").ConfigureAwait(false);
            return false;
        }

        return true;
    }

    private async Task GenerateAsync(HttpContext context, GeminiEmulatorRequest request, string model, bool streaming)
    {
        var cancellation = context.RequestAborted;
        _faults.TryDequeue(out var fault);
        if (fault is { Kind: GeminiEmulatorFaultKind.HttpError })
        {
            var details = fault.RetryDelay is { } delay ? RateLimitDetails(delay) : null;
            await WriteErrorAsync(context, fault.StatusCode, fault.Status!, fault.Message!, details).ConfigureAwait(false);
            return;
        }

        var answer = PickAnswer(request);
        var responseId = $"emu{Interlocked.Increment(ref _responseCounter):D6}{Guid.NewGuid():N}"[..22];
        var chunks = BuildChunks(request, answer, model, responseId, out var final);
        var ttft = Options.TimeToFirstToken + (fault is { Kind: GeminiEmulatorFaultKind.SlowFirstToken } ? fault.Delay : TimeSpan.Zero);
        if (!streaming)
        {
            await Task.Delay(ttft, cancellation).ConfigureAwait(false);
            if (fault is { Kind: GeminiEmulatorFaultKind.CutMidAnswer or GeminiEmulatorFaultKind.CutMidEvent })
            {
                context.Abort();
                return;
            }

            await WriteJsonAsync(context, 200, final).ConfigureAwait(false);
            return;
        }

        // A stream's headers come at once; the time to first token is spent before the first event.
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        await response.StartAsync(cancellation).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellation).ConfigureAwait(false);
        await Task.Delay(ttft, cancellation).ConfigureAwait(false);
        var faultAt = fault is null or { Kind: GeminiEmulatorFaultKind.SlowFirstToken } ? int.MaxValue : fault.AfterChunks;
        for (var i = 0; i < chunks.Count; i++)
        {
            if (i == faultAt)
            {
                await WriteStreamFaultAsync(context, fault!).ConfigureAwait(false);
                return;
            }

            if (i > 0 && Options.TokensPerSecond > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(chunks[i].Words / Options.TokensPerSecond), cancellation).ConfigureAwait(false);
            }

            await WriteEventAsync(response, chunks[i].Json.ToJsonString(), cancellation).ConfigureAwait(false);
            if (i == 0 && answer.HoldAfterFirstChunk is { } hold)
            {
                await hold.WaitAsync(cancellation).ConfigureAwait(false);
            }
        }

        if (faultAt != int.MaxValue && faultAt >= chunks.Count)
        {
            await WriteStreamFaultAsync(context, fault!).ConfigureAwait(false);
        }
    }

    private static async Task WriteStreamFaultAsync(HttpContext context, GeminiEmulatorFault fault)
    {
        var response = context.Response;
        switch (fault.Kind)
        {
            case GeminiEmulatorFaultKind.CutMidAnswer:
                await AbortAfterDrainAsync(context).ConfigureAwait(false);
                break;
            case GeminiEmulatorFaultKind.CutMidEvent:
                await response.WriteAsync("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\" and th", context.RequestAborted).ConfigureAwait(false);
                await response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                await AbortAfterDrainAsync(context).ConfigureAwait(false);
                break;
            case GeminiEmulatorFaultKind.MalformedChunk:
                await WriteEventAsync(response, "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"oops\"}]", context.RequestAborted).ConfigureAwait(false);
                break;
            case GeminiEmulatorFaultKind.ErrorEvent:
                await WriteEventAsync(response, ErrorJson(fault.StatusCode, fault.Status!, fault.Message!, null).ToJsonString(), context.RequestAborted).ConfigureAwait(false);
                break;
            default:
                // EndWithoutFinishReason: the body just ends.
                break;
        }
    }

    private static async Task AbortAfterDrainAsync(HttpContext context)
    {
        // A reset discards bytes the peer has not read yet; give the flushed events time to arrive,
        // so the client sees what a cut after them looks like.
        await Task.Delay(TimeSpan.FromMilliseconds(150), context.RequestAborted).ConfigureAwait(false);
        context.Abort();
    }

    private GeminiEmulatorAnswer PickAnswer(GeminiEmulatorRequest request)
    {
        lock (_lock)
        {
            foreach (var rule in _rules)
            {
                if (rule(request) is { } ruled)
                {
                    return ruled;
                }
            }
        }

        return _answers.TryDequeue(out var queued) ? queued : Options.DefaultAnswer(request);
    }

    private List<(JsonObject Json, int Words)> BuildChunks(GeminiEmulatorRequest request, GeminiEmulatorAnswer answer, string model, string responseId, out JsonObject final)
    {
        var json = request.Json!;
        var config = json["generationConfig"] as JsonObject;
        var includeThoughts = config?["thinkingConfig"]?["includeThoughts"]?.GetValue<bool>() == true;
        var promptTokens = EstimateTokens(json["contents"]) + (json["systemInstruction"] is { } system ? EstimateTokens(system) : 0);
        var thoughtTokens = answer.Thought is null ? 0 : WordRegex().Count(answer.Thought);
        var chunks = new List<(JsonObject Json, int Words)>();
        var finalParts = new JsonArray();
        var finishReason = answer.FinishReason;
        var candidateTokens = 0;

        if (answer.BlockReason is { } blockReason)
        {
            final = Envelope(null, null, promptTokens, 0, 0, model, responseId, complete: true);
            final.Remove("candidates");
            final["promptFeedback"] = new JsonObject
            {
                ["blockReason"] = blockReason,
                ["safetyRatings"] = new JsonArray(new JsonObject { ["category"] = "HARM_CATEGORY_HARASSMENT", ["probability"] = "HIGH" }),
            };
            chunks.Add((final.DeepClone().AsObject(), 0));
            return chunks;
        }

        if (includeThoughts && answer.Thought is not null)
        {
            var thought = new JsonObject { ["text"] = answer.Thought, ["thought"] = true };
            finalParts.Add(thought.DeepClone());
            chunks.Add((Envelope(new JsonArray(thought), null, promptTokens, 0, thoughtTokens, model, responseId, complete: false), thoughtTokens));
        }

        if (answer.FunctionName is { } name)
        {
            var call = new JsonObject { ["name"] = name, ["args"] = answer.FunctionArguments!.DeepClone() };
            if (answer.FunctionCallId is { } id)
            {
                call["id"] = id;
            }

            var part = new JsonObject { ["functionCall"] = call };
            finalParts.Add(part.DeepClone());
            candidateTokens = 5;
            chunks.Add((Envelope(new JsonArray(part), finishReason, promptTokens, candidateTokens, thoughtTokens, model, responseId, complete: true), 1));
        }
        else
        {
            var text = answer.Text ?? "";
            if (config?["responseMimeType"]?.GetValue<string>() == "application/json" && !IsJson(text))
            {
                text = new JsonObject { ["answer"] = text }.ToJsonString();
            }

            foreach (var stop in config?["stopSequences"]?.AsArray().Select(s => s?.GetValue<string>()).OfType<string>() ?? [])
            {
                var at = text.IndexOf(stop, StringComparison.Ordinal);
                if (at >= 0)
                {
                    text = text[..at];
                }
            }

            var words = WordRegex().Matches(text).Select(m => m.Value).ToList();
            if (config?["maxOutputTokens"]?.GetValue<int>() is { } max && words.Count > max)
            {
                words = words[..max];
                finishReason = "MAX_TOKENS";
            }

            candidateTokens = Math.Max(words.Count, 1);
            var perChunk = Math.Max(1, Options.WordsPerChunk);
            var sent = 0;
            for (var start = 0; start < Math.Max(words.Count, 1); start += perChunk)
            {
                var slice = words.Skip(start).Take(perChunk).ToList();
                sent += slice.Count;
                var last = start + perChunk >= words.Count;
                var part = new JsonObject { ["text"] = string.Concat(slice) };
                chunks.Add((Envelope(new JsonArray(part), last ? finishReason : null, promptTokens, last ? candidateTokens : sent, thoughtTokens, model, responseId, complete: last), slice.Count));
            }

            finalParts.Add(new JsonObject { ["text"] = string.Concat(words) });
        }

        final = Envelope(finalParts, finishReason, promptTokens, candidateTokens, thoughtTokens, model, responseId, complete: true);
        return chunks;
    }

    private static JsonObject Envelope(JsonArray? parts, string? finishReason, int promptTokens, int candidateTokens, int thoughtTokens, string model, string responseId, bool complete)
    {
        var candidate = new JsonObject
        {
            ["content"] = new JsonObject { ["parts"] = parts ?? [], ["role"] = "model" },
        };
        if (finishReason is not null)
        {
            candidate["finishReason"] = finishReason;
        }

        candidate["index"] = 0;

        // Like captured 2026 streams: intermediate chunks report the prompt only.
        var usage = new JsonObject { ["promptTokenCount"] = promptTokens };
        if (complete)
        {
            usage["candidatesTokenCount"] = candidateTokens;
        }

        usage["totalTokenCount"] = promptTokens + (complete ? candidateTokens : 0) + thoughtTokens;
        if (thoughtTokens > 0)
        {
            usage["thoughtsTokenCount"] = thoughtTokens;
        }

        usage["promptTokensDetails"] = new JsonArray(new JsonObject { ["modality"] = "TEXT", ["tokenCount"] = promptTokens });
        usage["serviceTier"] = "standard";
        return new JsonObject
        {
            ["candidates"] = new JsonArray(candidate),
            ["usageMetadata"] = usage,
            ["modelVersion"] = model,
            ["responseId"] = responseId,
        };
    }

    private async Task ListModelsAsync(HttpContext context)
    {
        var pageSize = int.TryParse(context.Request.Query["pageSize"], out var size) && size > 0 ? Math.Min(size, Options.MaxPageSize) : Math.Min(50, Options.MaxPageSize);
        var start = int.TryParse(context.Request.Query["pageToken"], out var token) ? token : 0;
        var ids = Options.Models.ToList();
        var page = new JsonObject { ["models"] = new JsonArray([.. ids.Skip(start).Take(pageSize).Select(ModelJson)]) };
        if (start + pageSize < ids.Count)
        {
            // Omitted on the last page: the SDK treats even "" as "more pages".
            page["nextPageToken"] = (start + pageSize).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await WriteJsonAsync(context, 200, page).ConfigureAwait(false);
    }

    private static JsonObject ModelJson(string id) => new()
    {
        ["name"] = "models/" + id,
        ["version"] = "001",
        ["displayName"] = string.Join(' ', id.Split('-').Select(w => w.Length > 0 ? char.ToUpperInvariant(w[0]) + w[1..] : w)),
        ["description"] = $"Emulated {id}.",
        ["inputTokenLimit"] = 1048576,
        ["outputTokenLimit"] = 65536,
        ["supportedGenerationMethods"] = new JsonArray("generateContent", "countTokens", "createCachedContent", "batchGenerateContent"),
        ["temperature"] = 1.0,
        ["topP"] = 0.95,
        ["topK"] = 64,
        ["maxTemperature"] = 2.0,
        ["thinking"] = true,
    };

    private static int EstimateTokens(JsonNode? node)
    {
        var chars = 0;
        Walk(node);
        return Math.Max(1, (chars + 3) / 4);

        void Walk(JsonNode? n)
        {
            switch (n)
            {
                case JsonObject o:
                    foreach (var (key, value) in o)
                    {
                        if (key == "text" && value is JsonValue v && v.TryGetValue<string>(out var s))
                        {
                            chars += s.Length;
                        }
                        else
                        {
                            Walk(value);
                        }
                    }

                    break;
                case JsonArray a:
                    foreach (var item in a)
                    {
                        Walk(item);
                    }

                    break;
            }
        }
    }

    private static bool IsJson(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static async Task WriteEventAsync(HttpResponse response, string json, CancellationToken cancellationToken)
    {
        // Exactly Google's framing: one data line, CRLF CRLF, flushed per event.
        await response.WriteAsync("data: " + json + "\r\n\r\n", cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=UTF-8";

        // Google pretty-prints unary bodies.
        await context.Response.WriteAsync(body.ToJsonString(Indented), context.RequestAborted).ConfigureAwait(false);
    }

    private static Task WriteErrorAsync(HttpContext context, int code, string status, string message, JsonArray? details = null) =>
        WriteJsonAsync(context, code, ErrorJson(code, status, message, details));

    private static JsonObject ErrorJson(int code, string status, string message, JsonArray? details)
    {
        var error = new JsonObject { ["code"] = code, ["message"] = message, ["status"] = status };
        if (details is not null)
        {
            error["details"] = details;
        }

        return new JsonObject { ["error"] = error };
    }

    private static JsonArray InvalidKeyDetails() =>
    [
        new JsonObject
        {
            ["@type"] = "type.googleapis.com/google.rpc.ErrorInfo",
            ["reason"] = "API_KEY_INVALID",
            ["domain"] = "googleapis.com",
            ["metadata"] = new JsonObject { ["service"] = "generativelanguage.googleapis.com" },
        },
        new JsonObject
        {
            ["@type"] = "type.googleapis.com/google.rpc.LocalizedMessage",
            ["locale"] = "en-US",
            ["message"] = "API key not valid. Please pass a valid API key.",
        },
    ];

    private static JsonArray RateLimitDetails(TimeSpan delay) =>
    [
        new JsonObject
        {
            ["@type"] = "type.googleapis.com/google.rpc.QuotaFailure",
            ["violations"] = new JsonArray(new JsonObject
            {
                ["quotaMetric"] = "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                ["quotaId"] = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                ["quotaValue"] = "10",
            }),
        },
        new JsonObject
        {
            ["@type"] = "type.googleapis.com/google.rpc.Help",
            ["links"] = new JsonArray(new JsonObject { ["description"] = "Learn more about Gemini API quotas", ["url"] = "https://ai.google.dev/gemini-api/docs/rate-limits" }),
        },
        new JsonObject
        {
            ["@type"] = "type.googleapis.com/google.rpc.RetryInfo",
            ["retryDelay"] = delay.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + "s",
        },
    ];
}
