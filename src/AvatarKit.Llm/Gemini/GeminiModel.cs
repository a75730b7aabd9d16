namespace AvatarKit.Llm;

/// <summary>A model Gemini serves, as returned by <c>models.list</c> / <c>models.get</c>.</summary>
/// <param name="Id">The model id without the <c>models/</c> prefix, e.g. <c>gemini-2.5-flash</c>.</param>
/// <param name="DisplayName">The human-readable name.</param>
/// <param name="Description">Google's description.</param>
/// <param name="InputTokenLimit">The context window in tokens.</param>
/// <param name="OutputTokenLimit">The longest answer in tokens.</param>
/// <param name="SupportedGenerationMethods">The methods the model supports, e.g. <c>generateContent</c>.</param>
/// <param name="Thinking">Whether the model thinks before answering.</param>
public sealed record GeminiModel(
    string Id,
    string? DisplayName,
    string? Description,
    int? InputTokenLimit,
    int? OutputTokenLimit,
    IReadOnlyList<string> SupportedGenerationMethods,
    bool Thinking);
