using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AvatarKit.Llm.Gemini;

/// <summary>Maps M.E.AI chat messages and options to Gemini requests, and Gemini responses back.</summary>
internal static class GeminiChatMapper
{
    /// <summary>Prefix of call ids made up by the client because Gemini sent none; they are not sent back.</summary>
    internal const string GeneratedCallIdPrefix = "gemini-call-";

    /// <summary>Key of the opaque thought signature kept on contents so it can be echoed back.</summary>
    internal const string ThoughtSignatureKey = "thoughtSignature";

    private static readonly JsonElement EmptyObject = JsonDocument.Parse("{}").RootElement.Clone();

    public static GenerateContentRequest CreateRequest(IEnumerable<ChatMessage> messages, ChatOptions? options, GeminiOptions defaults)
    {
        var request = new GenerateContentRequest();
        var system = new List<GeminiPart>();
        if (!string.IsNullOrWhiteSpace(options?.Instructions))
        {
            system.Add(new GeminiPart { Text = options.Instructions });
        }

        // Function results only carry the call id; Gemini wants the function's name back.
        Dictionary<string, string>? callNames = null;
        foreach (var message in messages)
        {
            if (message.Role == ChatRole.System)
            {
                system.AddRange(message.Contents.OfType<TextContent>().Where(t => t.Text.Length > 0).Select(t => new GeminiPart { Text = t.Text }));
                continue;
            }

            var role = message.Role == ChatRole.Assistant ? "model" : "user";
            var parts = new List<GeminiPart>();
            foreach (var content in message.Contents)
            {
                if (ToPart(content, ref callNames) is { } part)
                {
                    parts.Add(part);
                }
            }

            if (parts.Count == 0)
            {
                continue;
            }

            // Gemini expects alternating turns; consecutive messages of one role become one turn
            // (e.g. the results of parallel function calls).
            if (request.Contents.Count > 0 && request.Contents[^1].Role == role)
            {
                request.Contents[^1].Parts.AddRange(parts);
            }
            else
            {
                request.Contents.Add(new GeminiContent { Role = role, Parts = parts });
            }
        }

        if (system.Count > 0)
        {
            request.SystemInstruction = new GeminiContent { Role = "user", Parts = system };
        }

        request.GenerationConfig = CreateGenerationConfig(options, defaults);
        AddTools(request, options);
        return request;
    }

    public static string ResolveModel(ChatOptions? options, GeminiOptions defaults) =>
        string.IsNullOrWhiteSpace(options?.ModelId) ? defaults.Model : options.ModelId;

    public static ChatResponse ToChatResponse(GenerateContentResponse response)
    {
        var (contents, finishReason) = ToContents(response);

        // Usage travels as a property here and as content in streams, as M.E.AI does.
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, contents) { MessageId = response.ResponseId, RawRepresentation = response })
        {
            ResponseId = response.ResponseId,
            ModelId = response.ModelVersion,
            FinishReason = finishReason,
            Usage = ToUsage(response.UsageMetadata),
            RawRepresentation = response,
        };
    }

    public static ChatResponseUpdate ToUpdate(GenerateContentResponse response)
    {
        var (contents, finishReason) = ToContents(response);

        // Streamed usage is a running total; report it once, with the final chunk, so that
        // ToChatResponse (which sums usage contents) gets the right numbers.
        if (finishReason is not null && ToUsage(response.UsageMetadata) is { } usage)
        {
            contents.Add(new UsageContent(usage));
        }

        return new ChatResponseUpdate(ChatRole.Assistant, contents)
        {
            ResponseId = response.ResponseId,
            MessageId = response.ResponseId,
            ModelId = response.ModelVersion,
            FinishReason = finishReason,
            RawRepresentation = response,
        };
    }

    /// <summary>Whether this chunk ends the answer (it has a finish reason, or the prompt was blocked).</summary>
    public static bool IsFinal(GenerateContentResponse response) =>
        response.Candidates is [{ FinishReason: not null }, ..] || response.PromptFeedback?.BlockReason is not null;

    public static ChatFinishReason? ToFinishReason(string? reason, bool hasFunctionCall) => reason switch
    {
        null => null,
        "STOP" => hasFunctionCall ? ChatFinishReason.ToolCalls : ChatFinishReason.Stop,
        "MAX_TOKENS" => ChatFinishReason.Length,
        "SAFETY" or "RECITATION" or "BLOCKLIST" or "PROHIBITED_CONTENT" or "SPII" or "IMAGE_SAFETY" or "LANGUAGE" => ChatFinishReason.ContentFilter,
        _ => hasFunctionCall ? ChatFinishReason.ToolCalls : new ChatFinishReason(reason),
    };

    private static (List<AIContent> Contents, ChatFinishReason? FinishReason) ToContents(GenerateContentResponse response)
    {
        var contents = new List<AIContent>();
        if (response.PromptFeedback?.BlockReason is { } blockReason)
        {
            contents.Add(new ErrorContent($"Gemini blocked the prompt ({blockReason}){(response.PromptFeedback.BlockReasonMessage is { } m ? ": " + m : ".")}")
            {
                ErrorCode = blockReason,
                RawRepresentation = response.PromptFeedback,
            });
            return (contents, ChatFinishReason.ContentFilter);
        }

        if (response.Candidates is not [var candidate, ..])
        {
            return (contents, null);
        }

        var hasFunctionCall = false;
        foreach (var part in candidate.Content?.Parts ?? [])
        {
            if (ToContent(part) is { } content)
            {
                hasFunctionCall |= content is FunctionCallContent;
                contents.Add(content);
            }
        }

        var finishReason = ToFinishReason(candidate.FinishReason, hasFunctionCall);
        if (finishReason == ChatFinishReason.ContentFilter)
        {
            contents.Add(new ErrorContent($"Gemini stopped the answer ({candidate.FinishReason}){(candidate.FinishMessage is { } m ? ": " + m : ".")}")
            {
                ErrorCode = candidate.FinishReason,
                RawRepresentation = candidate.SafetyRatings,
            });
        }

        return (contents, finishReason);
    }

    private static AIContent? ToContent(GeminiPart part)
    {
        AIContent? content;
        if (part.FunctionCall is { } call)
        {
            var arguments = new Dictionary<string, object?>(StringComparer.Ordinal);
            if (call.Args is { ValueKind: JsonValueKind.Object } args)
            {
                foreach (var property in args.EnumerateObject())
                {
                    arguments[property.Name] = property.Value.Clone();
                }
            }

            content = new FunctionCallContent(call.Id ?? GeneratedCallIdPrefix + Guid.NewGuid().ToString("N")[..16], call.Name, arguments);
        }
        else if (part.Text is { } text)
        {
            if (text.Length == 0 && part.ThoughtSignature is null)
            {
                return null;
            }

            content = part.Thought == true ? new TextReasoningContent(text) : new TextContent(text);
        }
        else if (part.InlineData is { } data)
        {
            content = new DataContent(data.Data, data.MimeType ?? "application/octet-stream");
        }
        else
        {
            return null;
        }

        content.RawRepresentation = part;
        if (part.ThoughtSignature is { } signature)
        {
            (content.AdditionalProperties ??= [])[ThoughtSignatureKey] = signature;
        }

        return content;
    }

    private static GeminiPart? ToPart(AIContent content, ref Dictionary<string, string>? callNames)
    {
        var signature = content.AdditionalProperties?.TryGetValue(ThoughtSignatureKey, out var s) == true ? s as string : null;
        switch (content)
        {
            case TextReasoningContent:
                // Thoughts are not sent back; only their signatures matter, and those ride on other parts.
                return null;
            case TextContent text when text.Text.Length > 0 || signature is not null:
                return new GeminiPart { Text = text.Text, ThoughtSignature = signature };
            case FunctionCallContent call:
                (callNames ??= new(StringComparer.Ordinal))[call.CallId] = call.Name;
                return new GeminiPart
                {
                    FunctionCall = new GeminiFunctionCall
                    {
                        Id = SentId(call.CallId),
                        Name = call.Name,
                        Args = call.Arguments is { Count: > 0 } a ? JsonSerializer.SerializeToElement(a, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(IDictionary<string, object?>))) : EmptyObject,
                    },
                    ThoughtSignature = signature,
                };
            case FunctionResultContent result:
                return new GeminiPart
                {
                    FunctionResponse = new GeminiFunctionResponse
                    {
                        Id = SentId(result.CallId),
                        Name = callNames?.GetValueOrDefault(result.CallId) ?? result.CallId,
                        Response = ToResponseObject(result),
                    },
                };
            case DataContent data:
                return new GeminiPart { InlineData = new InlineData { MimeType = data.MediaType, Data = data.Data } };
            case UriContent uri:
                return new GeminiPart { FileData = new FileData { MimeType = uri.MediaType, FileUri = uri.Uri.ToString() } };
            default:
                return null;
        }
    }

    private static string? SentId(string callId) => callId.StartsWith(GeneratedCallIdPrefix, StringComparison.Ordinal) ? null : callId;

    // functionResponse.response must be a JSON object; other results are wrapped as {"result": ...}.
    private static JsonElement ToResponseObject(FunctionResultContent result)
    {
        if (result.Exception is { } exception)
        {
            return JsonSerializer.SerializeToElement(new Dictionary<string, object?> { ["error"] = exception.Message }, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(Dictionary<string, object?>)));
        }

        var value = result.Result switch
        {
            null => default,
            JsonElement element => element,
            var other => JsonSerializer.SerializeToElement(other, AIJsonUtilities.DefaultOptions.GetTypeInfo(other.GetType())),
        };
        if (value.ValueKind == JsonValueKind.Object)
        {
            return value;
        }

        return JsonSerializer.SerializeToElement(
            new Dictionary<string, object?> { ["result"] = value.ValueKind == JsonValueKind.Undefined ? null : value },
            AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(Dictionary<string, object?>)));
    }

    private static GenerationConfig? CreateGenerationConfig(ChatOptions? options, GeminiOptions defaults)
    {
        var config = new GenerationConfig();
        if (options is not null)
        {
            config.Temperature = options.Temperature;
            config.TopP = options.TopP;
            config.TopK = options.TopK;
            config.MaxOutputTokens = options.MaxOutputTokens;
            config.PresencePenalty = options.PresencePenalty;
            config.FrequencyPenalty = options.FrequencyPenalty;
            config.Seed = options.Seed;
            if (options.StopSequences is { Count: > 0 } stops)
            {
                config.StopSequences = [.. stops];
            }

            if (options.ResponseFormat is ChatResponseFormatJson json)
            {
                config.ResponseMimeType = "application/json";
                config.ResponseJsonSchema = json.Schema;
            }
        }

        var budget = GetInt(options, "thinkingBudget");
        var level = GetString(options, "thinkingLevel");
        if (budget is null && level is null && options?.Reasoning?.Effort is { } effort)
        {
            // Gemini 2.x models think by token budget, later ones by level.
            if (ResolveModel(options, defaults).Contains("gemini-2", StringComparison.Ordinal))
            {
                budget = effort switch { ReasoningEffort.None => 0, ReasoningEffort.Low => 1024, ReasoningEffort.Medium => 8192, _ => 24576 };
            }
            else
            {
                level = effort switch { ReasoningEffort.None => "MINIMAL", ReasoningEffort.Low => "LOW", ReasoningEffort.Medium => "MEDIUM", _ => "HIGH" };
            }
        }

        if (budget is null && level is null)
        {
            budget = defaults.ThinkingBudget;
            level = defaults.ThinkingLevel;
        }

        var includeThoughts = GetBool(options, "includeThoughts")
            ?? (options?.Reasoning?.Output is ReasoningOutput.Summary or ReasoningOutput.Full ? true : null);
        if (budget is not null || level is not null || includeThoughts is not null)
        {
            config.ThinkingConfig = new ThinkingConfig { ThinkingBudget = budget, ThinkingLevel = level, IncludeThoughts = includeThoughts };
        }

        var empty = config is { Temperature: null, TopP: null, TopK: null, MaxOutputTokens: null, PresencePenalty: null, FrequencyPenalty: null, Seed: null, StopSequences: null, CandidateCount: null, ResponseMimeType: null, ResponseJsonSchema: null, ThinkingConfig: null };
        return empty ? null : config;
    }

    private static void AddTools(GenerateContentRequest request, ChatOptions? options)
    {
        var declarations = options?.Tools?.OfType<AIFunctionDeclaration>().Select(f => new FunctionDeclaration
        {
            Name = f.Name,
            Description = string.IsNullOrEmpty(f.Description) ? null : f.Description,
            ParametersJsonSchema = HasProperties(f.JsonSchema) ? f.JsonSchema : null,
        }).ToList();
        if (declarations is not { Count: > 0 })
        {
            return;
        }

        request.Tools = [new GeminiTool { FunctionDeclarations = declarations }];
        request.ToolConfig = options!.ToolMode switch
        {
            NoneChatToolMode => new ToolConfig { FunctionCallingConfig = new FunctionCallingConfig { Mode = "NONE" } },
            RequiredChatToolMode { RequiredFunctionName: { } name } => new ToolConfig { FunctionCallingConfig = new FunctionCallingConfig { Mode = "ANY", AllowedFunctionNames = [name] } },
            RequiredChatToolMode => new ToolConfig { FunctionCallingConfig = new FunctionCallingConfig { Mode = "ANY" } },
            _ => null,
        };
    }

    private static bool HasProperties(JsonElement schema) =>
        schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object && properties.EnumerateObject().Any();

    private static UsageDetails? ToUsage(UsageMetadata? usage) => usage is null ? null : new UsageDetails
    {
        InputTokenCount = usage.PromptTokenCount,
        OutputTokenCount = usage.CandidatesTokenCount,
        TotalTokenCount = usage.TotalTokenCount,
        ReasoningTokenCount = usage.ThoughtsTokenCount,
        CachedInputTokenCount = usage.CachedContentTokenCount,
    };

    private static int? GetInt(ChatOptions? options, string key) => Get(options, key) switch
    {
        int i => i,
        long l => (int)l,
        JsonElement { ValueKind: JsonValueKind.Number } e => e.GetInt32(),
        string s when int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) => i,
        _ => null,
    };

    private static string? GetString(ChatOptions? options, string key) => Get(options, key) switch
    {
        string s => s,
        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
        _ => null,
    };

    private static bool? GetBool(ChatOptions? options, string key) => Get(options, key) switch
    {
        bool b => b,
        JsonElement { ValueKind: JsonValueKind.True or JsonValueKind.False } e => e.GetBoolean(),
        _ => null,
    };

    private static object? Get(ChatOptions? options, string key) =>
        options?.AdditionalProperties?.TryGetValue(key, out var value) == true ? value : null;
}
