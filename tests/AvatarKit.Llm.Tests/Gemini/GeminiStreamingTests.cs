using AvatarKit.Testing.Gemini;
using Microsoft.Extensions.AI;

namespace AvatarKit.Llm.Tests.Gemini;

public sealed class GeminiStreamingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task First_update_arrives_while_the_rest_of_the_answer_is_still_unsent()
    {
        await using var fixture = await GeminiFixture.StartAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fixture.Emulator.Enqueue(GeminiEmulatorAnswer.FromText("The sea is vast and deep and blue today.") with { HoldAfterFirstChunk = release.Task });

        await using var updates = fixture.Client.GetStreamingResponseAsync("Describe the sea.", cancellationToken: Ct).GetAsyncEnumerator(Ct);

        // The emulator holds the remaining chunks until released: a buffering client would hang here.
        using var guard = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        guard.CancelAfter(TimeSpan.FromSeconds(30));
        Assert.True(await updates.MoveNextAsync().AsTask().WaitAsync(guard.Token));
        Assert.Equal("The sea is vast ", updates.Current.Text);
        Assert.Null(updates.Current.FinishReason);

        release.SetResult();
        var rest = new List<ChatResponseUpdate>();
        while (await updates.MoveNextAsync())
        {
            rest.Add(updates.Current);
        }

        Assert.Equal("and deep and blue today.", string.Concat(rest.Select(u => u.Text)));
        Assert.Equal(ChatFinishReason.Stop, rest[^1].FinishReason);
    }

    [Fact]
    public async Task Updates_come_in_order_with_one_response_id_and_usage_only_at_the_end()
    {
        await using var fixture = await GeminiFixture.StartAsync(emulatorOptions: o => o.WordsPerChunk = 2);
        fixture.Emulator.Enqueue(GeminiEmulatorAnswer.FromText("One two three four five six seven."));

        var updates = await fixture.Client.GetStreamingResponseAsync("Count to seven.", cancellationToken: Ct).ToListAsync(Ct);

        Assert.Equal(["One two ", "three four ", "five six ", "seven."], updates.Select(u => u.Text));
        Assert.Single(updates.Select(u => u.ResponseId).Distinct());
        Assert.All(updates, u => Assert.Equal("gemini-2.5-flash", u.ModelId));
        Assert.All(updates, u => Assert.NotNull(u.RawRepresentation));
        Assert.All(updates[..^1], u => Assert.Empty(u.Contents.OfType<UsageContent>()));
        var response = updates.ToChatResponse();
        Assert.Equal("One two three four five six seven.", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.NotNull(response.Usage);
        Assert.Equal(7, response.Usage.OutputTokenCount);
        Assert.Equal(response.Usage.InputTokenCount + 7, response.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task Unary_response_maps_text_usage_ids_and_raw_representation()
    {
        await using var fixture = await GeminiFixture.StartAsync();
        fixture.Emulator.Enqueue(GeminiEmulatorAnswer.FromText("Hello! How can I help?") with { Thought = "The user greets me." });

        var response = await fixture.Client.GetResponseAsync(
            "Hi",
            new ChatOptions { AdditionalProperties = new() { ["includeThoughts"] = true } },
            Ct);

        Assert.Equal("Hello! How can I help?", response.Text);
        Assert.Equal("The user greets me.", Assert.Single(response.Messages[0].Contents.OfType<TextReasoningContent>()).Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal("gemini-2.5-flash", response.ModelId);
        Assert.StartsWith("emu", response.ResponseId, StringComparison.Ordinal);
        Assert.NotNull(response.RawRepresentation);
        Assert.Equal(1, response.Usage!.InputTokenCount);
        Assert.Equal(5, response.Usage.OutputTokenCount);
        Assert.Equal(4, response.Usage.ReasoningTokenCount);
        Assert.Equal(10, response.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task Max_output_tokens_finishes_with_length()
    {
        await using var fixture = await GeminiFixture.StartAsync();
        fixture.Emulator.Enqueue(GeminiEmulatorAnswer.FromText("a b c d e f g h"));

        var response = await fixture.Client.GetStreamingResponseAsync("Letters", new ChatOptions { MaxOutputTokens = 3 }, Ct).ToChatResponseAsync(Ct);

        Assert.Equal("a b c ", response.Text);
        Assert.Equal(ChatFinishReason.Length, response.FinishReason);
    }

    [Fact]
    public async Task Blocked_prompt_finishes_with_content_filter_and_names_the_reason()
    {
        await using var fixture = await GeminiFixture.StartAsync();
        fixture.Emulator.Enqueue(GeminiEmulatorAnswer.Blocked("SAFETY"));
        fixture.Emulator.Enqueue(GeminiEmulatorAnswer.Blocked("PROHIBITED_CONTENT"));

        var streamed = await fixture.Client.GetStreamingResponseAsync("something bad", cancellationToken: Ct).ToChatResponseAsync(Ct);
        var unary = await fixture.Client.GetResponseAsync("something bad", cancellationToken: Ct);

        Assert.Equal(ChatFinishReason.ContentFilter, streamed.FinishReason);
        Assert.Equal("SAFETY", Assert.Single(streamed.Messages.SelectMany(m => m.Contents).OfType<ErrorContent>()).ErrorCode);
        Assert.Empty(streamed.Text);
        Assert.Equal(ChatFinishReason.ContentFilter, unary.FinishReason);
        Assert.Contains("PROHIBITED_CONTENT", Assert.Single(unary.Messages[0].Contents.OfType<ErrorContent>()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Answer_stopped_by_safety_keeps_its_text_and_reports_the_filter()
    {
        await using var fixture = await GeminiFixture.StartAsync();
        fixture.Emulator.Enqueue(GeminiEmulatorAnswer.FromText("Here is how you") with { FinishReason = "SAFETY" });

        var response = await fixture.Client.GetStreamingResponseAsync("Tell me something", cancellationToken: Ct).ToChatResponseAsync(Ct);

        Assert.Equal("Here is how you", response.Text);
        Assert.Equal(ChatFinishReason.ContentFilter, response.FinishReason);
        Assert.Contains("(SAFETY)", Assert.Single(response.Messages.SelectMany(m => m.Contents).OfType<ErrorContent>()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_response_format_asks_for_json_and_gets_it()
    {
        await using var fixture = await GeminiFixture.StartAsync();
        fixture.Emulator.Enqueue(GeminiEmulatorAnswer.FromText("Paris"));

        var response = await fixture.Client.GetResponseAsync("Capital of France?", new ChatOptions { ResponseFormat = ChatResponseFormat.Json }, Ct);

        Assert.Equal("{\"answer\":\"Paris\"}", response.Text);
        Assert.Equal("application/json", fixture.Emulator.Requests[^1].Json!["generationConfig"]!["responseMimeType"]!.GetValue<string>());
    }

    [Fact]
    public async Task Paced_stream_yields_its_first_update_well_before_the_last()
    {
        await using var fixture = await GeminiFixture.StartAsync(emulatorOptions: o =>
        {
            o.TimeToFirstToken = TimeSpan.FromMilliseconds(50);
            o.TokensPerSecond = 40;
            o.WordsPerChunk = 2;
        });
        // The paced chunks after the first wait until the first update is seen: a client that buffered the stream
        // would never yield it (comparing arrival times instead fails whenever a loaded machine delays the reader).
        var firstSeen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fixture.Emulator.Enqueue(GeminiEmulatorAnswer.FromText("one two three four five six seven eight nine ten eleven twelve") with { HoldAfterFirstChunk = firstSeen.Task });
        var updates = new List<string>();

        await foreach (var update in fixture.Client.GetStreamingResponseAsync("Count.", cancellationToken: Ct).WithCancellation(Ct))
        {
            updates.Add(update.Text);
            firstSeen.TrySetResult();
        }

        // 6 chunks of 2 words, in order.
        Assert.Equal(6, updates.Count);
        Assert.Equal("one two three four five six seven eight nine ten eleven twelve", string.Concat(updates).Trim());
    }
}
