using AvatarKit.Testing.Chat;
using Microsoft.Extensions.AI;

namespace AvatarKit.Llm.Tests.Sandbox;

public sealed class ScriptedChatClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Answer_streams_word_by_word_and_ends_with_stop()
    {
        using var client = new ScriptedChatClient { TimeToFirstToken = TimeSpan.Zero, TokensPerSecond = 0 };

        var updates = await client.GetStreamingResponseAsync("Hello avatar", cancellationToken: Ct).ToListAsync(Ct);

        Assert.True(updates.Count > 5);
        Assert.StartsWith("Hello! I am the AvatarKit sandbox avatar.", string.Concat(updates.Select(u => u.Text)), StringComparison.Ordinal);
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
        Assert.All(updates[..^1], u => Assert.Null(u.FinishReason));
    }

    [Fact]
    public async Task Follow_up_question_is_answered_from_the_history()
    {
        using var client = new ScriptedChatClient { TimeToFirstToken = TimeSpan.Zero, TokensPerSecond = 0 };
        List<ChatMessage> history = [new(ChatRole.System, "Be nice."), new(ChatRole.User, "How tall is Mont Blanc?")];
        history.AddRange((await client.GetResponseAsync(history, cancellationToken: Ct)).Messages);
        history.Add(new(ChatRole.User, "What did I just ask?"));

        var response = await client.GetResponseAsync(history, cancellationToken: Ct);

        Assert.Equal("You asked: \"How tall is Mont Blanc?\".", response.Text);
    }

    [Fact]
    public async Task Custom_rules_and_fallback_apply()
    {
        using var client = new ScriptedChatClient { TimeToFirstToken = TimeSpan.Zero, TokensPerSecond = 0 }
            .When("weather", _ => "Sunny.");
        client.Fallback = turn => $"#{turn.UserTurnNumber}";

        Assert.Equal("Sunny.", (await client.GetResponseAsync("How is the weather?", cancellationToken: Ct)).Text);
        Assert.Equal("#1", (await client.GetResponseAsync("Something else", cancellationToken: Ct)).Text);
    }
}
