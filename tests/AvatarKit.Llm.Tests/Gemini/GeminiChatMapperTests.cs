using AvatarKit.Llm.Gemini;
using Microsoft.Extensions.AI;

namespace AvatarKit.Llm.Tests.Gemini;

public sealed class GeminiChatMapperTests
{
    [Theory]
    [InlineData("STOP", false, "stop")]
    [InlineData("STOP", true, "tool_calls")]
    [InlineData("MAX_TOKENS", false, "length")]
    [InlineData("SAFETY", false, "content_filter")]
    [InlineData("RECITATION", false, "content_filter")]
    [InlineData("PROHIBITED_CONTENT", false, "content_filter")]
    [InlineData("SPII", false, "content_filter")]
    [InlineData("BLOCKLIST", false, "content_filter")]
    [InlineData("MALFORMED_FUNCTION_CALL", false, "MALFORMED_FUNCTION_CALL")]
    [InlineData("OTHER", false, "OTHER")]
    public void Finish_reasons_map_to_meai(string gemini, bool hasFunctionCall, string expected)
    {
        Assert.Equal(expected, GeminiChatMapper.ToFinishReason(gemini, hasFunctionCall)?.Value);
    }

    [Theory]
    [InlineData("38s", 38_000)]
    [InlineData("0.5s", 500)]
    [InlineData("1.25s", 1_250)]
    [InlineData("0s", 0)]
    public void Retry_delays_parse_protobuf_durations(string value, int milliseconds)
    {
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), GoogleErrors.ParseDuration(value));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("s")]
    [InlineData("38")]
    [InlineData("-1s")]
    [InlineData("abc s")]
    public void Invalid_durations_give_no_delay(string? value)
    {
        Assert.Null(GoogleErrors.ParseDuration(value));
    }

    [Theory]
    [InlineData("gemini-2.5-flash", ReasoningEffort.None, """{"thinkingBudget":0,"includeThoughts":true}""")]
    [InlineData("gemini-2.5-pro", ReasoningEffort.High, """{"thinkingBudget":24576,"includeThoughts":true}""")]
    [InlineData("gemini-3.8-flash", ReasoningEffort.None, """{"thinkingLevel":"MINIMAL","includeThoughts":true}""")]
    [InlineData("gemini-flash-lite-latest", ReasoningEffort.Medium, """{"thinkingLevel":"MEDIUM","includeThoughts":true}""")]
    public void Reasoning_options_map_to_a_thinking_budget_or_level_by_model(string model, ReasoningEffort effort, string expected)
    {
        var request = GeminiChatMapper.CreateRequest(
            [new ChatMessage(ChatRole.User, "Hi")],
            new ChatOptions { ModelId = model, Reasoning = new ReasoningOptions { Effort = effort, Output = ReasoningOutput.Summary } },
            new GeminiOptions { ThinkingLevel = "HIGH" });

        Assert.Equal(expected, System.Text.Json.JsonSerializer.Serialize(request.GenerationConfig!.ThinkingConfig, GeminiJsonContext.Wire.ThinkingConfig));
    }

    [Fact]
    public void Explicit_thinking_properties_win_over_reasoning_options_and_defaults()
    {
        var request = GeminiChatMapper.CreateRequest(
            [new ChatMessage(ChatRole.User, "Hi")],
            new ChatOptions { Reasoning = new ReasoningOptions { Effort = ReasoningEffort.High }, AdditionalProperties = new() { ["thinkingBudget"] = 0 } },
            new GeminiOptions { ThinkingLevel = "HIGH" });

        Assert.Equal(0, request.GenerationConfig!.ThinkingConfig!.ThinkingBudget);
        Assert.Null(request.GenerationConfig.ThinkingConfig.ThinkingLevel);
    }

    [Fact]
    public void Tool_results_that_are_not_objects_are_wrapped_and_exceptions_become_errors()
    {
        var request = GeminiChatMapper.CreateRequest(
            [
                new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("gemini-call-1", "f"), new FunctionCallContent("gemini-call-2", "g")]),
                new ChatMessage(ChatRole.Tool, [new FunctionResultContent("gemini-call-1", 42), new FunctionResultContent("gemini-call-2", null) { Exception = new InvalidOperationException("boom") }]),
            ],
            options: null,
            new GeminiOptions());

        var responses = request.Contents[1].Parts.Select(p => p.FunctionResponse!).ToList();
        Assert.Equal("user", request.Contents[1].Role);
        Assert.Equal(["f", "g"], responses.Select(r => r.Name));
        Assert.All(responses, r => Assert.Null(r.Id));
        Assert.Equal("""{"result":42}""", System.Text.Json.JsonSerializer.Serialize(responses[0].Response));
        Assert.Equal("""{"error":"boom"}""", System.Text.Json.JsonSerializer.Serialize(responses[1].Response));
        Assert.Null(request.GenerationConfig);
    }
}
