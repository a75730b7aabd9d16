using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;

namespace AvatarKit.Testing.Chat;

/// <summary>
/// A local, keyless <see cref="IChatClient"/> for the offline sandbox: answers by rules (first match
/// wins, then <see cref="Fallback"/>) and streams the answer word by word at
/// <see cref="TimeToFirstToken"/> and <see cref="TokensPerSecond"/>, like a hosted model.
/// </summary>
/// <remarks>
/// It keeps no state of its own: the conversation is the message list it is given, so it can answer
/// follow-ups such as "what did I just ask?" from the history. Thread-safe once configured.
/// </remarks>
public sealed partial class ScriptedChatClient : IChatClient
{
    private static readonly ChatClientMetadata Metadata = new("avatarkit.sandbox", defaultModelId: "scripted");
    private readonly List<(Regex Pattern, Func<ScriptedChatTurn, string> Answer)> _rules = [];

    /// <summary>Initializes a client with the sandbox's built-in rules (greeting, name, time, follow-up, help).</summary>
    public ScriptedChatClient()
    {
        When(@"\b(what did i (just )?(ask|say)|repeat (my|the) (last )?question|previous question)\b", turn =>
            turn.PreviousUserText is { } previous ? $"You asked: \"{previous}\"." : "You have not asked me anything before this.");
        When(@"^\s*(hi|hello|hey|good (morning|afternoon|evening))\b", _ =>
            "Hello! I am the AvatarKit sandbox avatar. I run fully offline, so ask me anything and I will answer from my script.");
        When(@"\b(your name|who are you)\b", _ => "I am the AvatarKit sandbox avatar, a local stand-in for a real language model.");
        When(@"\b(what time|the time)\b", _ => $"It is {DateTime.Now:HH:mm} here, on this machine.");
        When(@"\b(help|what can you do)\b", _ =>
            "I can chat a little, repeat your previous question, and tell the time. Set GEMINI_API_KEY to talk to Gemini instead.");
        When(@"\b(bye|goodbye|see you)\b", _ => "Goodbye! It was nice talking to you.");
    }

    /// <summary>Gets or sets the delay before the first token.</summary>
    public TimeSpan TimeToFirstToken { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Gets or sets the streaming speed in words per second; 0 or less streams without pauses.</summary>
    public double TokensPerSecond { get; set; } = 20;

    /// <summary>Gets or sets the answer when no rule matches.</summary>
    public Func<ScriptedChatTurn, string> Fallback { get; set; } = turn =>
        $"You said: \"{turn.UserText}\". I am the offline sandbox, so my answers are scripted. That was message {turn.UserTurnNumber} of our conversation.";

    /// <summary>Adds a rule; rules are tried in the order added, the built-in ones first.</summary>
    /// <param name="pattern">A case-insensitive regular expression matched against the user's last message.</param>
    /// <param name="answer">Builds the answer.</param>
    /// <returns>This client.</returns>
    public ScriptedChatClient When(string pattern, Func<ScriptedChatTurn, string> answer)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        ArgumentNullException.ThrowIfNull(answer);
        _rules.Add((new Regex(pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), answer));
        return this;
    }

    /// <summary>Gets the answer the client would give to <paramref name="messages"/>.</summary>
    /// <param name="messages">The conversation.</param>
    /// <returns>The answer text.</returns>
    public string Answer(IEnumerable<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var users = messages.Where(m => m.Role == ChatRole.User).Select(m => m.Text).Where(t => !string.IsNullOrWhiteSpace(t)).ToList();
        var turn = new ScriptedChatTurn(users.Count > 0 ? users[^1] : "", users.Count > 1 ? users[^2] : null, users.Count);
        foreach (var (pattern, answer) in _rules)
        {
            if (pattern.IsMatch(turn.UserText))
            {
                return answer(turn);
            }
        }

        return Fallback(turn);
    }

    /// <inheritdoc />
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var text = Answer(messages);
        var responseId = Guid.NewGuid().ToString("N");
        if (TimeToFirstToken > TimeSpan.Zero)
        {
            await Task.Delay(TimeToFirstToken, cancellationToken).ConfigureAwait(false);
        }

        var words = WordRegex().Matches(text);
        for (var i = 0; i < words.Count; i++)
        {
            if (i > 0 && TokensPerSecond > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(1 / TokensPerSecond), cancellationToken).ConfigureAwait(false);
            }

            var update = new ChatResponseUpdate(ChatRole.Assistant, words[i].Value) { ResponseId = responseId, MessageId = responseId, ModelId = "scripted" };
            if (i == words.Count - 1)
            {
                update.FinishReason = ChatFinishReason.Stop;
                update.Contents.Add(new UsageContent(new UsageDetails { OutputTokenCount = words.Count }));
            }

            yield return update;
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(ChatClientMetadata) ? Metadata
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }

    [GeneratedRegex(@"\S+\s*")]
    private static partial Regex WordRegex();
}

/// <summary>What a <see cref="ScriptedChatClient"/> rule sees of the conversation.</summary>
/// <param name="UserText">The user's last message.</param>
/// <param name="PreviousUserText">The user's message before that, if any.</param>
/// <param name="UserTurnNumber">How many user messages the conversation has.</param>
public sealed record ScriptedChatTurn(string UserText, string? PreviousUserText, int UserTurnNumber);
