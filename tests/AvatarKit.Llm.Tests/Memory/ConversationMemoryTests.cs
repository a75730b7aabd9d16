using Microsoft.Extensions.AI;

namespace AvatarKit.Llm.Tests.Memory;

public sealed class ConversationMemoryTests
{
    [Fact]
    public void Messages_start_with_the_system_prompt_then_the_history_in_order()
    {
        var memory = new ConversationMemory(new ConversationMemoryOptions { SystemPrompt = "You are Ava." });
        memory.AddUserMessage("Hi");
        memory.AddAssistantMessage("Hello!");

        var messages = memory.GetMessages();

        Assert.Equal([ChatRole.System, ChatRole.User, ChatRole.Assistant], messages.Select(m => m.Role));
        Assert.Equal(["You are Ava.", "Hi", "Hello!"], messages.Select(m => m.Text));
    }

    [Fact]
    public void Oldest_turns_are_dropped_beyond_max_turns()
    {
        var memory = new ConversationMemory(new ConversationMemoryOptions { MaxTurns = 2 });
        for (var i = 1; i <= 4; i++)
        {
            memory.AddUserMessage($"q{i}");
            memory.AddAssistantMessage($"a{i}");
        }

        Assert.Equal(["q3", "a3", "q4", "a4"], memory.GetMessages().Select(m => m.Text));
        Assert.Equal(2, memory.TurnCount);
    }

    [Fact]
    public void Oldest_turns_are_dropped_beyond_the_token_budget_but_the_newest_turn_stays()
    {
        var memory = new ConversationMemory(new ConversationMemoryOptions { MaxTokens = 60, SystemPrompt = "Short." });
        memory.AddUserMessage(new string('a', 80));
        memory.AddAssistantMessage(new string('b', 80));
        Assert.Equal(2, memory.GetMessages().Count - 1);

        memory.AddUserMessage(new string('c', 400));

        var history = memory.GetMessages().Skip(1).ToList();
        Assert.Equal(new string('c', 400), Assert.Single(history).Text);
        Assert.True(memory.EstimatedTokens > memory.MaxTokens);
    }

    [Fact]
    public void Interrupted_answer_keeps_only_what_the_avatar_said()
    {
        var memory = new ConversationMemory();
        memory.AddUserMessage("Tell me about the sea.");
        memory.AddInterruptedAnswer("The sea covers most of the planet. ");
        memory.AddUserMessage("Stop, what about rivers?");

        var messages = memory.GetMessages();

        Assert.Equal(["Tell me about the sea.", "The sea covers most of the planet.", "Stop, what about rivers?"], messages.Select(m => m.Text));
        Assert.Equal(true, messages[1].AdditionalProperties?[ConversationMemory.InterruptedKey]);
    }

    [Fact]
    public void Interrupted_answer_with_nothing_spoken_leaves_no_assistant_message()
    {
        var memory = new ConversationMemory();
        memory.AddUserMessage("Tell me a story.");
        memory.AddInterruptedAnswer("  ");
        memory.AddUserMessage("Actually, never mind.");

        Assert.All(memory.GetMessages(), m => Assert.Equal(ChatRole.User, m.Role));
        Assert.Equal(1, memory.TurnCount);
    }

    [Fact]
    public void Trimming_keeps_function_calls_with_their_results()
    {
        var memory = new ConversationMemory(new ConversationMemoryOptions { MaxTurns = 1 });
        memory.AddUserMessage("Weather?");
        memory.AddMessages(
        [
            new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("c1", "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" })]),
            new ChatMessage(ChatRole.Tool, [new FunctionResultContent("c1", "18C")]),
            new ChatMessage(ChatRole.Assistant, "It is 18 degrees."),
            new ChatMessage(ChatRole.System, "ignored"),
        ]);
        Assert.Equal(4, memory.GetMessages().Count);

        memory.AddUserMessage("And tomorrow?");

        Assert.Equal("And tomorrow?", Assert.Single(memory.GetMessages()).Text);
    }

    [Fact]
    public void Clear_keeps_the_system_prompt_and_it_can_change()
    {
        var memory = new ConversationMemory(new ConversationMemoryOptions { SystemPrompt = "A" });
        memory.AddUserMessage("Hi");
        memory.Clear();
        memory.SystemPrompt = "B";

        Assert.Equal("B", Assert.Single(memory.GetMessages()).Text);
        Assert.Equal(0, memory.TurnCount);
    }

    [Fact]
    public void Token_estimate_is_about_four_characters_per_token_plus_overhead()
    {
        Assert.Equal(4 + 25, ConversationMemory.EstimateTokens(new ChatMessage(ChatRole.User, new string('x', 100))));
    }

    [Fact]
    public void Invalid_bounds_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConversationMemory(new ConversationMemoryOptions { MaxTurns = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConversationMemory(new ConversationMemoryOptions { MaxTokens = 0 }));
    }
}
