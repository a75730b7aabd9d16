using Microsoft.Extensions.AI;

namespace AvatarKit.Llm;

/// <summary>
/// The conversation history a voice pipeline sends to its <see cref="IChatClient"/>: a system prompt
/// plus the last turns, bounded by turn count and by an estimated token budget, and the
/// interrupted-answer rule: when the user barges in, only what the avatar actually said is kept.
/// </summary>
/// <remarks>
/// <para>
/// A turn starts with a user message and holds everything until the next one (the answer, function
/// calls and their results), so trimming never separates a function call from its result. The oldest
/// turns go first; the newest turn is always kept, even alone over budget.
/// </para>
/// <para>
/// Tokens are estimated, not counted: about four characters per token plus a few per message, which
/// is close enough for English and errs high for most other languages. Thread-safe.
/// </para>
/// </remarks>
public sealed class ConversationMemory
{
    /// <summary>The <see cref="ChatMessage.AdditionalProperties"/> key set to <see langword="true"/> on an interrupted answer.</summary>
    public const string InterruptedKey = "avatarkit.interrupted";

    private const int TokensPerMessage = 4;

    private readonly Lock _lock = new();
    private readonly List<ChatMessage> _history = [];
    private string? _systemPrompt;

    /// <summary>Initializes a new <see cref="ConversationMemory"/>.</summary>
    /// <param name="options">Settings; defaults when null.</param>
    public ConversationMemory(ConversationMemoryOptions? options = null)
    {
        options ??= new ConversationMemoryOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxTurns, 1, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxTokens, 1, nameof(options));
        MaxTurns = options.MaxTurns;
        MaxTokens = options.MaxTokens;
        _systemPrompt = options.SystemPrompt;
    }

    /// <summary>Gets how many turns are kept.</summary>
    public int MaxTurns { get; }

    /// <summary>Gets the estimated token budget.</summary>
    public int MaxTokens { get; }

    /// <summary>Gets or sets the system prompt; null or empty for none.</summary>
    public string? SystemPrompt
    {
        get
        {
            lock (_lock)
            {
                return _systemPrompt;
            }
        }

        set
        {
            lock (_lock)
            {
                _systemPrompt = value;
                Trim();
            }
        }
    }

    /// <summary>Gets how many turns the history holds.</summary>
    public int TurnCount
    {
        get
        {
            lock (_lock)
            {
                return CountTurns();
            }
        }
    }

    /// <summary>Gets the estimated tokens of the system prompt plus history.</summary>
    public int EstimatedTokens
    {
        get
        {
            lock (_lock)
            {
                return SystemTokens() + _history.Sum(EstimateTokens);
            }
        }
    }

    /// <summary>Records what the user said; starts a new turn.</summary>
    /// <param name="text">The user's words.</param>
    public void AddUserMessage(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        Add([new ChatMessage(ChatRole.User, text)]);
    }

    /// <summary>Records an answer the avatar spoke completely.</summary>
    /// <param name="text">The answer.</param>
    public void AddAssistantMessage(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length > 0)
        {
            Add([new ChatMessage(ChatRole.Assistant, text)]);
        }
    }

    /// <summary>
    /// Records an answer the user interrupted: only <paramref name="spokenText"/>, what the avatar
    /// actually said before it stopped, is kept (marked with <see cref="InterruptedKey"/>), so the model
    /// does not believe the user heard the rest. Nothing is recorded when the avatar said nothing.
    /// </summary>
    /// <param name="spokenText">The part of the answer the avatar spoke (or had started to speak).</param>
    public void AddInterruptedAnswer(string spokenText)
    {
        ArgumentNullException.ThrowIfNull(spokenText);
        var spoken = spokenText.Trim();
        if (spoken.Length == 0)
        {
            return;
        }

        var message = new ChatMessage(ChatRole.Assistant, spoken) { AdditionalProperties = new() { [InterruptedKey] = true } };
        Add([message]);
    }

    /// <summary>
    /// Records messages as they are, e.g. <see cref="ChatResponse.Messages"/> of a response with
    /// function calls and results. System messages are ignored (use <see cref="SystemPrompt"/>).
    /// </summary>
    /// <param name="messages">The messages.</param>
    public void AddMessages(IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        Add([.. messages.Where(m => m.Role != ChatRole.System)]);
    }

    /// <summary>Gets the messages to send: the system prompt (if any), then the history, oldest first.</summary>
    /// <returns>A snapshot; later changes to the memory do not affect it.</returns>
    public IReadOnlyList<ChatMessage> GetMessages()
    {
        lock (_lock)
        {
            var messages = new List<ChatMessage>(_history.Count + 1);
            if (!string.IsNullOrEmpty(_systemPrompt))
            {
                messages.Add(new ChatMessage(ChatRole.System, _systemPrompt));
            }

            messages.AddRange(_history);
            return messages;
        }
    }

    /// <summary>Forgets the history; keeps the system prompt.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _history.Clear();
        }
    }

    /// <summary>Estimates the tokens of one message (about four characters per token plus overhead).</summary>
    /// <param name="message">The message.</param>
    /// <returns>The estimate.</returns>
    public static int EstimateTokens(ChatMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var chars = 0;
        foreach (var content in message.Contents)
        {
            chars += content switch
            {
                TextContent text => text.Text.Length,
                FunctionCallContent call => call.Name.Length + (call.Arguments?.Sum(a => a.Key.Length + (a.Value?.ToString()?.Length ?? 4)) ?? 0),
                FunctionResultContent result => result.Result?.ToString()?.Length ?? 4,
                DataContent => 1032, // about 258 tokens, what Gemini bills for an image
                _ => 0,
            };
        }

        return TokensPerMessage + ((chars + 3) / 4);
    }

    private void Add(List<ChatMessage> messages)
    {
        if (messages.Count == 0)
        {
            return;
        }

        lock (_lock)
        {
            _history.AddRange(messages);
            Trim();
        }
    }

    private int SystemTokens() => string.IsNullOrEmpty(_systemPrompt) ? 0 : TokensPerMessage + ((_systemPrompt.Length + 3) / 4);

    private int CountTurns()
    {
        var turns = 0;
        for (var i = 0; i < _history.Count; i++)
        {
            if (i == 0 || _history[i].Role == ChatRole.User && _history[i - 1].Role != ChatRole.User)
            {
                turns++;
            }
        }

        return turns;
    }

    private void Trim()
    {
        var tokens = SystemTokens() + _history.Sum(EstimateTokens);
        while (CountTurns() > 1 && (CountTurns() > MaxTurns || tokens > MaxTokens))
        {
            // The first turn runs to the next user message that follows a non-user one.
            var end = 1;
            while (end < _history.Count && !(_history[end].Role == ChatRole.User && _history[end - 1].Role != ChatRole.User))
            {
                end++;
            }

            tokens -= _history.Take(end).Sum(EstimateTokens);
            _history.RemoveRange(0, end);
        }
    }
}
