using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AvatarKit.Llm.Gemini;

// The Gemini REST wire shapes (specs/gemini.md §2-§4). Only the fields AvatarKit reads or
// writes; unknown response fields are ignored by System.Text.Json.

internal sealed class GenerateContentRequest
{
    public List<GeminiContent> Contents { get; set; } = [];

    public GeminiContent? SystemInstruction { get; set; }

    public GenerationConfig? GenerationConfig { get; set; }

    public List<GeminiTool>? Tools { get; set; }

    public ToolConfig? ToolConfig { get; set; }

    public List<SafetySetting>? SafetySettings { get; set; }

    public string? CachedContent { get; set; }
}

internal sealed class GeminiContent
{
    public string? Role { get; set; }

    public List<GeminiPart> Parts { get; set; } = [];
}

internal sealed class GeminiPart
{
    public string? Text { get; set; }

    public InlineData? InlineData { get; set; }

    public FileData? FileData { get; set; }

    public GeminiFunctionCall? FunctionCall { get; set; }

    public GeminiFunctionResponse? FunctionResponse { get; set; }

    public bool? Thought { get; set; }

    public string? ThoughtSignature { get; set; }
}

internal sealed class InlineData
{
    public string? MimeType { get; set; }

    public ReadOnlyMemory<byte> Data { get; set; }
}

internal sealed class FileData
{
    public string? MimeType { get; set; }

    public string? FileUri { get; set; }
}

internal sealed class GeminiFunctionCall
{
    public string? Id { get; set; }

    public string Name { get; set; } = "";

    public JsonElement? Args { get; set; }
}

internal sealed class GeminiFunctionResponse
{
    public string? Id { get; set; }

    public string Name { get; set; } = "";

    public JsonElement Response { get; set; }
}

internal sealed class GenerationConfig
{
    public float? Temperature { get; set; }

    public float? TopP { get; set; }

    public int? TopK { get; set; }

    public int? MaxOutputTokens { get; set; }

    public List<string>? StopSequences { get; set; }

    public int? CandidateCount { get; set; }

    public float? PresencePenalty { get; set; }

    public float? FrequencyPenalty { get; set; }

    public long? Seed { get; set; }

    public string? ResponseMimeType { get; set; }

    public JsonElement? ResponseJsonSchema { get; set; }

    public ThinkingConfig? ThinkingConfig { get; set; }
}

internal sealed class ThinkingConfig
{
    public int? ThinkingBudget { get; set; }

    public string? ThinkingLevel { get; set; }

    public bool? IncludeThoughts { get; set; }
}

internal sealed class GeminiTool
{
    public List<FunctionDeclaration>? FunctionDeclarations { get; set; }
}

internal sealed class FunctionDeclaration
{
    public string Name { get; set; } = "";

    public string? Description { get; set; }

    public JsonElement? ParametersJsonSchema { get; set; }
}

internal sealed class ToolConfig
{
    public FunctionCallingConfig? FunctionCallingConfig { get; set; }
}

internal sealed class FunctionCallingConfig
{
    public string? Mode { get; set; }

    public List<string>? AllowedFunctionNames { get; set; }
}

internal sealed class SafetySetting
{
    public string? Category { get; set; }

    public string? Threshold { get; set; }
}

internal sealed class GenerateContentResponse
{
    public List<GeminiCandidate>? Candidates { get; set; }

    public PromptFeedback? PromptFeedback { get; set; }

    public UsageMetadata? UsageMetadata { get; set; }

    public string? ModelVersion { get; set; }

    public string? ResponseId { get; set; }

    // Google may put an error envelope into a 200 stream as one more event (spec §4).
    public GoogleError? Error { get; set; }
}

internal sealed class GeminiCandidate
{
    public GeminiContent? Content { get; set; }

    public string? FinishReason { get; set; }

    public string? FinishMessage { get; set; }

    public int? Index { get; set; }

    public List<SafetyRating>? SafetyRatings { get; set; }
}

internal sealed class PromptFeedback
{
    public string? BlockReason { get; set; }

    public string? BlockReasonMessage { get; set; }

    public List<SafetyRating>? SafetyRatings { get; set; }
}

internal sealed class SafetyRating
{
    public string? Category { get; set; }

    public string? Probability { get; set; }

    public bool? Blocked { get; set; }
}

internal sealed class UsageMetadata
{
    public int? PromptTokenCount { get; set; }

    public int? CandidatesTokenCount { get; set; }

    public int? TotalTokenCount { get; set; }

    public int? ThoughtsTokenCount { get; set; }

    public int? CachedContentTokenCount { get; set; }

    public int? ToolUsePromptTokenCount { get; set; }
}

internal sealed class GoogleErrorEnvelope
{
    public GoogleError? Error { get; set; }
}

internal sealed class GoogleError
{
    public int Code { get; set; }

    public string? Message { get; set; }

    public string? Status { get; set; }

    public List<JsonElement>? Details { get; set; }
}

internal sealed class ListModelsResponse
{
    public List<ModelResource>? Models { get; set; }

    public string? NextPageToken { get; set; }
}

internal sealed class ModelResource
{
    public string Name { get; set; } = "";

    public string? Version { get; set; }

    public string? DisplayName { get; set; }

    public string? Description { get; set; }

    public int? InputTokenLimit { get; set; }

    public int? OutputTokenLimit { get; set; }

    public List<string>? SupportedGenerationMethods { get; set; }

    public bool? Thinking { get; set; }
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowReadingFromString)]
[JsonSerializable(typeof(GenerateContentRequest))]
[JsonSerializable(typeof(GenerateContentResponse))]
[JsonSerializable(typeof(GoogleErrorEnvelope))]
[JsonSerializable(typeof(ListModelsResponse))]
[JsonSerializable(typeof(ModelResource))]
internal sealed partial class GeminiJsonContext : JsonSerializerContext
{
    /// <summary>Like <see cref="JsonSerializerContext"/>'s default, but writes non-ASCII text as is (a JSON body, not HTML).</summary>
    public static GeminiJsonContext Wire { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
