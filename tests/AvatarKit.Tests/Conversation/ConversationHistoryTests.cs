using Microsoft.Extensions.AI;

namespace AvatarKit.Tests.Conversation;

public sealed class ConversationHistoryTests
{
    [Fact]
    public void The_oldest_messages_are_dropped_and_the_history_starts_with_the_user()
    {
        var history = new ConversationHistory("prompt", maxMessages: 4);
        for (var i = 1; i <= 3; i++)
        {
            history.AddUserMessage($"q{i}");
            history.AddAssistantMessage($"a{i}");
        }

        history.AddUserMessage("q4");

        Assert.Equal(["q3", "a3", "q4"], history.GetMessages().Select(m => m.Text));
        var messages = history.ToChatMessages();
        Assert.Equal(ChatRole.System, messages[0].Role);
        Assert.Equal("prompt", messages[0].Text);
    }

    [Fact]
    public void Consecutive_user_messages_are_merged_so_roles_alternate()
    {
        var history = new ConversationHistory();
        history.AddUserMessage("Tell me a story");
        history.AddAssistantMessage(string.Empty, interrupted: true);
        history.AddUserMessage("Actually, a joke");

        var message = Assert.Single(history.GetMessages());
        Assert.Equal("Tell me a story\nActually, a joke", message.Text);
        Assert.Single(history.ToChatMessages());
    }

    [Fact]
    public void A_failed_turn_removes_only_the_trailing_user_message()
    {
        var history = new ConversationHistory();
        history.AddUserMessage("q1");
        history.AddAssistantMessage("a1");
        Assert.False(history.RemoveLastUserMessage());
        history.AddUserMessage("q2");

        Assert.True(history.RemoveLastUserMessage());
        Assert.Equal(["q1", "a1"], history.GetMessages().Select(m => m.Text));
    }
}
