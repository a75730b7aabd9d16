using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using AvatarKit.Testing.Gemini;

namespace AvatarKit.Testing.Tests.Gemini;

/// <summary>The emulator seen through a plain HttpClient, checked against the wire facts of the Gemini spec.</summary>
public sealed class GeminiEmulatorTests : IAsyncLifetime
{
    private const string Body = """{"contents":[{"role":"user","parts":[{"text":"Tell me about the sea please"}]}]}""";
    private GeminiEmulator _emulator = null!;
    private readonly HttpClient _http = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _emulator = await GeminiEmulator.StartAsync(new GeminiEmulatorOptions { TimeToFirstToken = TimeSpan.Zero, TokensPerSecond = 0 }, Ct);
        _http.BaseAddress = _emulator.BaseUrl;
        _http.DefaultRequestHeaders.Add("x-goog-api-key", _emulator.ApiKey);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _emulator.DisposeAsync();
    }

    [Theory]
    [InlineData("v1")]
    [InlineData("v1beta")]
    public async Task Stream_is_framed_exactly_like_google(string version)
    {
        _emulator.Enqueue(GeminiEmulatorAnswer.FromText("The sea is vast and deep and full of life."));

        using var response = await PostAsync($"/{version}/models/gemini-2.5-flash:streamGenerateContent?alt=sse", Body);
        var raw = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.EndsWith("\r\n\r\n", raw, StringComparison.Ordinal);
        var events = raw.Split("\r\n\r\n")[..^1];
        Assert.True(events.Length >= 2);
        Assert.All(events, e => Assert.StartsWith("data: {", e, StringComparison.Ordinal));
        Assert.All(events, e => Assert.DoesNotContain('\n', e));
        Assert.DoesNotContain("continuationToken", raw, StringComparison.Ordinal);
        var chunks = events.Select(e => JsonNode.Parse(e["data: ".Length..])!).ToList();
        Assert.Single(chunks.Select(c => c["responseId"]!.GetValue<string>()).Distinct());
        Assert.All(chunks[..^1], c => Assert.Null(c["candidates"]![0]!["finishReason"]));
        Assert.Equal("STOP", chunks[^1]["candidates"]![0]!["finishReason"]!.GetValue<string>());
        Assert.Equal("model", chunks[0]["candidates"]![0]!["content"]!["role"]!.GetValue<string>());
        Assert.Equal("The sea is vast and deep and full of life.", string.Concat(chunks.Select(c => c["candidates"]![0]!["content"]!["parts"]![0]!["text"]!.GetValue<string>())));
        Assert.NotNull(chunks[^1]["usageMetadata"]!["candidatesTokenCount"]);
        Assert.Null(chunks[0]["usageMetadata"]!["candidatesTokenCount"]);
    }

    [Fact]
    public async Task Unary_answer_is_pretty_printed_with_the_documented_fields()
    {
        using var response = await PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Body);
        var raw = await response.Content.ReadAsStringAsync(Ct);
        var json = JsonNode.Parse(raw)!;

        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("\n  \"candidates\"", raw, StringComparison.Ordinal);
        var candidate = json["candidates"]![0]!;
        Assert.Equal("model", candidate["content"]!["role"]!.GetValue<string>());
        Assert.StartsWith("You said: Tell me about the sea please", candidate["content"]!["parts"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("STOP", candidate["finishReason"]!.GetValue<string>());
        Assert.Equal(0, candidate["index"]!.GetValue<int>());
        var usage = json["usageMetadata"]!;
        Assert.Equal(usage["promptTokenCount"]!.GetValue<int>() + usage["candidatesTokenCount"]!.GetValue<int>(), usage["totalTokenCount"]!.GetValue<int>());
        Assert.Equal("gemini-2.5-flash", json["modelVersion"]!.GetValue<string>());
        Assert.NotNull(json["responseId"]);
    }

    [Fact]
    public async Task Key_is_accepted_from_the_query_too()
    {
        using var http = new HttpClient { BaseAddress = _emulator.BaseUrl };

        using var response = await http.GetAsync(new Uri($"/v1beta/models?key={_emulator.ApiKey}", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Missing_key_is_403_permission_denied()
    {
        using var http = new HttpClient { BaseAddress = _emulator.BaseUrl };

        using var response = await http.GetAsync(new Uri("/v1beta/models", UriKind.Relative), Ct);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!["error"]!;

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(403, error["code"]!.GetValue<int>());
        Assert.Equal("PERMISSION_DENIED", error["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Wrong_key_is_400_with_google_error_info()
    {
        using var http = new HttpClient { BaseAddress = _emulator.BaseUrl };
        http.DefaultRequestHeaders.Add("x-goog-api-key", "nope");

        using var response = await http.PostAsync(new Uri("/v1/models/gemini-2.5-flash:generateContent", UriKind.Relative), new StringContent(Body, Encoding.UTF8, "application/json"), Ct);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!["error"]!;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("INVALID_ARGUMENT", error["status"]!.GetValue<string>());
        Assert.Equal("API key not valid. Please pass a valid API key.", error["message"]!.GetValue<string>());
        Assert.Equal("API_KEY_INVALID", error["details"]![0]!["reason"]!.GetValue<string>());
        Assert.Equal("generativelanguage.googleapis.com", error["details"]![0]!["metadata"]!["service"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/v1beta/models/gemini-9-ultra:generateContent", Body, 404, "NOT_FOUND")]
    [InlineData("/v1beta/models/gemini-2.5-flash:generateContent", "{not json", 400, "INVALID_ARGUMENT")]
    [InlineData("/v1beta/models/gemini-2.5-flash:generateContent", """{"contents":[]}""", 400, "INVALID_ARGUMENT")]
    public async Task Bad_requests_get_google_error_envelopes(string path, string body, int code, string status)
    {
        using var response = await PostAsync(path, body);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!["error"]!;

        Assert.Equal(code, (int)response.StatusCode);
        Assert.Equal(code, error["code"]!.GetValue<int>());
        Assert.Equal(status, error["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Rate_limit_fault_carries_retry_info()
    {
        _emulator.EnqueueFault(GeminiEmulatorFault.RateLimited(TimeSpan.FromSeconds(2)));

        using var response = await PostAsync("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", Body);
        var error = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!["error"]!;

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Equal("RESOURCE_EXHAUSTED", error["status"]!.GetValue<string>());
        var retryInfo = error["details"]!.AsArray().Single(d => d!["@type"]!.GetValue<string>() == "type.googleapis.com/google.rpc.RetryInfo");
        Assert.Equal("2s", retryInfo!["retryDelay"]!.GetValue<string>());
    }

    [Fact]
    public async Task Models_list_pages_and_omits_the_token_on_the_last_page()
    {
        using var first = await _http.GetAsync(new Uri("/v1beta/models?pageSize=5", UriKind.Relative), Ct);
        var page1 = JsonNode.Parse(await first.Content.ReadAsStringAsync(Ct))!;
        using var second = await _http.GetAsync(new Uri($"/v1beta/models?pageSize=5&pageToken={page1["nextPageToken"]}", UriKind.Relative), Ct);
        var page2 = JsonNode.Parse(await second.Content.ReadAsStringAsync(Ct))!;

        Assert.Equal(5, page1["models"]!.AsArray().Count);
        Assert.Equal(_emulator.Options.Models.Count - 5, page2["models"]!.AsArray().Count);
        Assert.Null(page2["nextPageToken"]);
        Assert.Contains(page1["models"]!.AsArray(), m => m!["name"]!.GetValue<string>() == "models/gemini-2.5-flash");
    }

    [Fact]
    public async Task Models_get_and_count_tokens_answer()
    {
        using var model = await _http.GetAsync(new Uri("/v1/models/gemini-2.5-flash", UriKind.Relative), Ct);
        using var count = await PostAsync("/v1/models/gemini-2.5-flash:countTokens", Body);

        Assert.Equal("models/gemini-2.5-flash", JsonNode.Parse(await model.Content.ReadAsStringAsync(Ct))!["name"]!.GetValue<string>());
        Assert.Equal(7, JsonNode.Parse(await count.Content.ReadAsStringAsync(Ct))!["totalTokens"]!.GetValue<int>());
    }

    [Fact]
    public async Task Function_call_answer_is_one_chunk_with_the_call_and_stop()
    {
        _emulator.Enqueue(GeminiEmulatorAnswer.FromFunctionCall("get_weather", """{"city":"Paris"}"""));

        using var response = await PostAsync("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", Body);
        var events = (await response.Content.ReadAsStringAsync(Ct)).Split("\r\n\r\n")[..^1];

        var chunk = JsonNode.Parse(Assert.Single(events)["data: ".Length..])!["candidates"]![0]!;
        Assert.Equal("""{"name":"get_weather","args":{"city":"Paris"}}""", chunk["content"]!["parts"]![0]!["functionCall"]!.ToJsonString());
        Assert.Equal("STOP", chunk["finishReason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Requests_are_recorded_without_the_key()
    {
        using var response = await PostAsync("/v1beta/models/gemini-2.5-flash:generateContent", Body);

        var request = Assert.Single(_emulator.Requests);
        Assert.Equal("generateContent", request.Operation);
        Assert.Equal("gemini-2.5-flash", request.Model);
        Assert.Equal("Tell me about the sea please", request.LastUserText);
        Assert.Equal("***", request.Headers["x-goog-api-key"]);
    }

    private Task<HttpResponseMessage> PostAsync(string path, string body) =>
        _http.PostAsync(new Uri(path, UriKind.Relative), new StringContent(body, Encoding.UTF8, "application/json"), Ct);
}
