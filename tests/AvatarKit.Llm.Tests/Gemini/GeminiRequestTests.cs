using Microsoft.Extensions.AI;

namespace AvatarKit.Llm.Tests.Gemini;

public sealed class GeminiRequestTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task System_instruction_history_and_options_go_on_the_wire_exactly()
    {
        await using var fixture = await GeminiFixture.StartAsync();
        List<ChatMessage> history =
        [
            new(ChatRole.System, "You are a friendly avatar."),
            new(ChatRole.User, "What's the weather in Paris, Zoë?"),
            new(ChatRole.Assistant, "Let me check."),
            new(ChatRole.User, "Thanks"),
        ];
        var options = new ChatOptions
        {
            Temperature = 0.2f,
            TopP = 0.95f,
            TopK = 40,
            MaxOutputTokens = 512,
            StopSequences = ["END"],
            AdditionalProperties = new() { ["thinkingBudget"] = 0 },
        };

        await fixture.Client.GetStreamingResponseAsync(history, options, Ct).ToListAsync(Ct);

        var request = Assert.Single(fixture.Emulator.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal("/v1beta/models/gemini-2.5-flash:streamGenerateContent", request.Path);
        Assert.Equal("?alt=sse", request.Query);
        Assert.Equal("***", request.Headers["x-goog-api-key"]);
        Assert.StartsWith("application/json", request.Headers["content-type"], StringComparison.Ordinal);
        Assert.Equal(
            """{"contents":[{"role":"user","parts":[{"text":"What's the weather in Paris, Zoë?"}]},{"role":"model","parts":[{"text":"Let me check."}]},{"role":"user","parts":[{"text":"Thanks"}]}],"systemInstruction":{"role":"user","parts":[{"text":"You are a friendly avatar."}]},"generationConfig":{"temperature":0.2,"topP":0.95,"topK":40,"maxOutputTokens":512,"stopSequences":["END"],"thinkingConfig":{"thinkingBudget":0}}}""",
            request.Body);
    }

    [Fact]
    public async Task Minimal_unary_request_has_only_contents_and_uses_the_configured_version_and_model()
    {
        await using var fixture = await GeminiFixture.StartAsync(o =>
        {
            o.ApiVersion = "v1";
            o.Model = "gemini-3.5-flash-lite";
        });

        await fixture.Client.GetResponseAsync("Hi", cancellationToken: Ct);
        await fixture.Client.GetResponseAsync("Hi", new ChatOptions { ModelId = "gemini-2.5-pro" }, Ct);

        var requests = fixture.Emulator.Requests;
        Assert.Equal("/v1/models/gemini-3.5-flash-lite:generateContent", requests[0].Path);
        Assert.Equal("", requests[0].Query);
        Assert.Equal("""{"contents":[{"role":"user","parts":[{"text":"Hi"}]}]}""", requests[0].Body);
        Assert.Equal("/v1/models/gemini-2.5-pro:generateContent", requests[1].Path);
    }

    [Fact]
    public async Task Instructions_json_schema_tool_mode_and_thinking_defaults_are_mapped()
    {
        await using var fixture = await GeminiFixture.StartAsync(o => o.ThinkingLevel = "MINIMAL");
        var schema = AIJsonUtilities.CreateJsonSchema(typeof(Answer));
        var tool = AIFunctionFactory.Create((string city) => "sunny", "get_weather", "Current weather for a city");

        await fixture.Client.GetResponseAsync(
            [new ChatMessage(ChatRole.System, "Be brief."), new ChatMessage(ChatRole.User, "Weather?")],
            new ChatOptions
            {
                Instructions = "Speak like a pirate.",
                ResponseFormat = ChatResponseFormat.ForJsonSchema(schema, "answer"),
                Tools = [tool],
                ToolMode = ChatToolMode.RequireSpecific("get_weather"),
            },
            Ct);

        var json = fixture.Emulator.Requests[0].Json!;
        Assert.Equal("""[{"text":"Speak like a pirate."},{"text":"Be brief."}]""", json["systemInstruction"]!["parts"]!.ToJsonString());
        var config = json["generationConfig"]!;
        Assert.Equal("application/json", config["responseMimeType"]!.GetValue<string>());
        Assert.Equal("string", config["responseJsonSchema"]!["properties"]!["text"]!["type"]!.GetValue<string>());
        Assert.Equal("""{"thinkingLevel":"MINIMAL"}""", config["thinkingConfig"]!.ToJsonString());
        var declaration = json["tools"]![0]!["functionDeclarations"]![0]!;
        Assert.Equal("get_weather", declaration["name"]!.GetValue<string>());
        Assert.Equal("Current weather for a city", declaration["description"]!.GetValue<string>());
        Assert.Equal("string", declaration["parametersJsonSchema"]!["properties"]!["city"]!["type"]!.GetValue<string>());
        Assert.Equal("""{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_weather"]}}""", json["toolConfig"]!.ToJsonString());
    }

    [Fact]
    public async Task Images_go_inline_and_consecutive_user_messages_merge_into_one_turn()
    {
        await using var fixture = await GeminiFixture.StartAsync();

        await fixture.Client.GetResponseAsync(
            [
                new ChatMessage(ChatRole.User, [new TextContent("Look:"), new DataContent(new byte[] { 1, 2, 3 }, "image/png")]),
                new ChatMessage(ChatRole.User, "What is it?"),
            ],
            cancellationToken: Ct);

        Assert.Equal(
            """[{"role":"user","parts":[{"text":"Look:"},{"inlineData":{"mimeType":"image/png","data":"AQID"}},{"text":"What is it?"}]}]""",
            fixture.Emulator.Requests[0].Json!["contents"]!.ToJsonString());
    }

    [Fact]
    public async Task Thought_signatures_are_echoed_back_on_the_same_part()
    {
        await using var fixture = await GeminiFixture.StartAsync();
        var answer = new TextContent("Sure.") { AdditionalProperties = new() { ["thoughtSignature"] = "c2lnbmF0dXJl" } };

        await fixture.Client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "Hi"), new ChatMessage(ChatRole.Assistant, [answer]), new ChatMessage(ChatRole.User, "Go on")],
            cancellationToken: Ct);

        Assert.Equal(
            """{"role":"model","parts":[{"text":"Sure.","thoughtSignature":"c2lnbmF0dXJl"}]}""",
            fixture.Emulator.Requests[0].Json!["contents"]![1]!.ToJsonString());
    }

    private sealed record Answer(string Text);
}
