namespace AvatarKit.Llm;

/// <summary>Settings of a <see cref="ConversationMemory"/>.</summary>
public sealed class ConversationMemoryOptions
{
    /// <summary>Gets or sets the system prompt sent first with every request; null for none.</summary>
    public string? SystemPrompt { get; set; }

    /// <summary>Gets or sets how many turns (a user message and the answer to it) are kept; at least 1.</summary>
    public int MaxTurns { get; set; } = 20;

    /// <summary>
    /// Gets or sets the estimated token budget of the system prompt plus history; the oldest turns are
    /// dropped beyond it, but the newest turn is always kept.
    /// </summary>
    public int MaxTokens { get; set; } = 8000;
}
