using AvatarKit.Testing.Gemini;
using Microsoft.Extensions.AI;

namespace AvatarKit.Llm.Tests.Gemini;

public sealed class GeminiToolTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Function_call_round_trips_through_UseFunctionInvocation(bool streaming)
    {
        await using var fixture = await GeminiFixture.StartAsync(pipeline: b => b.UseFunctionInvocation());
        fixture.Emulator.Enqueue(GeminiEmulatorAnswer.FromFunctionCall("get_weather", """{"city":"Paris"}"""));
        fixture.Emulator.Enqueue(GeminiEmulatorAnswer.FromText("It is 18 degrees in Paris."));
        string? calledWith = null;
        var tool = AIFunctionFactory.Create(
            (string city) =>
            {
                calledWith = city;
                return new Weather(18, city);
            },
            "get_weather",
            "Current weather for a city");
        var options = new ChatOptions { Tools = [tool] };

        var response = streaming
            ? await fixture.Client.GetStreamingResponseAsync("What is the weather in Paris?", options, Ct).ToChatResponseAsync(Ct)
            : await fixture.Client.GetResponseAsync("What is the weather in Paris?", options, Ct);

        Assert.Equal("Paris", calledWith);
        Assert.EndsWith("It is 18 degrees in Paris.", response.Text, StringComparison.Ordinal);
        var requests = fixture.Emulator.Requests;
        Assert.Equal(2, requests.Count);
        Assert.Equal(
            """[{"role":"user","parts":[{"text":"What is the weather in Paris?"}]},{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]},{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"tempC":18,"city":"Paris"}}}]}]""",
            requests[1].Json!["contents"]!.ToJsonString());
    }

    [Fact]
    public async Task Function_call_maps_to_tool_calls_and_keeps_the_server_call_id()
    {
        await using var fixture = await GeminiFixture.StartAsync();
        fixture.Emulator.Enqueue(GeminiEmulatorAnswer.FromFunctionCall("get_time", "{}", id: "call-7"));
        var tool = AIFunctionFactory.Create(() => "12:00", "get_time");

        var response = await fixture.Client.GetResponseAsync("Time?", new ChatOptions { Tools = [tool] }, Ct);

        Assert.Equal(ChatFinishReason.ToolCalls, response.FinishReason);
        var call = Assert.Single(response.Messages[0].Contents.OfType<FunctionCallContent>());
        Assert.Equal("call-7", call.CallId);
        Assert.Equal("get_time", call.Name);

        await fixture.Client.GetResponseAsync(
            [new ChatMessage(ChatRole.User, "Time?"), .. response.Messages, new ChatMessage(ChatRole.Tool, [new FunctionResultContent("call-7", "12:00")])],
            new ChatOptions { Tools = [tool] },
            Ct);

        Assert.Equal(
            """{"role":"user","parts":[{"functionResponse":{"id":"call-7","name":"get_time","response":{"result":"12:00"}}}]}""",
            fixture.Emulator.Requests[1].Json!["contents"]![2]!.ToJsonString());
    }

    private sealed record Weather(int TempC, string City);
}
