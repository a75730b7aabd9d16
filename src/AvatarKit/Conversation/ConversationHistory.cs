using Microsoft.Extensions.AI;

namespace AvatarKit;

/// <summary>
/// The bounded history of a conversation: a system prompt plus the latest user and assistant
/// messages, ready to send to an <see cref="IChatClient"/>. Thread-safe.
/// </summary>
/// <remarks>
/// When the history is full the oldest messages are dropped, and it never starts with an
/// assistant message (some providers refuse that). Two user messages in a row (the first one's
/// answer was interrupted before a word was said) are merged, so roles keep alternating. An
/// interrupted answer keeps only what the avatar said and is marked with
/// <see cref="InterruptedProperty"/> in its <c>AdditionalProperties</c>.
/// </remarks>
public sealed class ConversationHistory
{
    /// <summary>The <c>AdditionalProperties</c> key set to <see langword="true"/> on an answer that was interrupted.</summary>
    public const string InterruptedProperty = "avatarkit.interrupted";

    private readonly List<ChatMessage> _messages = [];
    private readonly Lock _lock = new();

    /// <summary>Initializes a new <see cref="ConversationHistory"/>.</summary>
    /// <param name="systemPrompt">The system prompt; none when null or empty.</param>
    /// <param name="maxMessages">How many user and assistant messages to keep; at least 2.</param>
    public ConversationHistory(string? systemPrompt = null, int maxMessages = 20)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessages, 2);
        SystemPrompt = systemPrompt;
        MaxMessages = maxMessages;
    }

    /// <summary>Gets or sets the system prompt; none when null or empty.</summary>
    public string? SystemPrompt { get; set; }

    /// <summary>Gets how many user and assistant messages are kept.</summary>
    public int MaxMessages { get; }

    /// <summary>Gets the number of user and assistant messages kept.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _messages.Count;
            }
        }
    }

    /// <summary>Adds what the user said; merged into the previous message when that one is also the user's.</summary>
    /// <param name="text">The user's text.</param>
    public void AddUserMessage(string text)
    {
        Throw.IfNullOrWhiteSpace(text);
        lock (_lock)
        {
            if (_messages.Count > 0 && _messages[^1].Role == ChatRole.User)
            {
                _messages[^1] = new ChatMessage(ChatRole.User, $"{_messages[^1].Text}\n{text}");
            }
            else
            {
                _messages.Add(new ChatMessage(ChatRole.User, text));
            }

            Trim();
        }
    }

    /// <summary>Adds the assistant's answer (for an interrupted answer, only what was said).</summary>
    /// <param name="text">The answer's text; nothing is added when empty.</param>
    /// <param name="interrupted">Whether the answer was cut short.</param>
    public void AddAssistantMessage(string text, bool interrupted = false)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return;
        }

        var message = new ChatMessage(ChatRole.Assistant, text);
        if (interrupted)
        {
            message.AdditionalProperties = new() { [InterruptedProperty] = true };
        }

        lock (_lock)
        {
            _messages.Add(message);
            Trim();
        }
    }

    /// <summary>Removes the last message when it is the user's (its answer failed, so the user will ask again).</summary>
    /// <returns><see langword="true"/> when a message was removed.</returns>
    public bool RemoveLastUserMessage()
    {
        lock (_lock)
        {
            if (_messages.Count == 0 || _messages[^1].Role != ChatRole.User)
            {
                return false;
            }

            _messages.RemoveAt(_messages.Count - 1);
            return true;
        }
    }

    /// <summary>Removes every message; the system prompt stays.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _messages.Clear();
        }
    }

    /// <summary>Gets a snapshot of the user and assistant messages, oldest first.</summary>
    /// <returns>The messages.</returns>
    public IReadOnlyList<ChatMessage> GetMessages()
    {
        lock (_lock)
        {
            return [.. _messages];
        }
    }

    /// <summary>Gets the messages to send to a chat client: the system prompt, then the history.</summary>
    /// <returns>A new list the caller may change.</returns>
    public List<ChatMessage> ToChatMessages()
    {
        lock (_lock)
        {
            var list = new List<ChatMessage>(_messages.Count + 1);
            if (!string.IsNullOrWhiteSpace(SystemPrompt))
            {
                list.Add(new ChatMessage(ChatRole.System, SystemPrompt));
            }

            list.AddRange(_messages);
            return list;
        }
    }

    private void Trim()
    {
        var excess = _messages.Count - MaxMessages;
        if (excess > 0)
        {
            _messages.RemoveRange(0, excess);
        }

        while (_messages.Count > 0 && _messages[0].Role != ChatRole.User)
        {
            _messages.RemoveAt(0);
        }
    }
}
