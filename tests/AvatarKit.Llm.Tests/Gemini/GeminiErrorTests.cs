using System.Net;
using AvatarKit.Testing.Gemini;
using Microsoft.Extensions.AI;

namespace AvatarKit.Llm.Tests.Gemini;

public sealed class GeminiErrorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Invalid_key_is_a_400_with_google_status_and_a_hint_but_never_the_key()
    {
        await using var fixture = await GeminiFixture.StartAsync(o => o.ApiKey = "wrong-secret-key");

        var error = await Assert.ThrowsAsync<GeminiApiException>(() => fixture.Client.GetResponseAsync("Hi", cancellationToken: Ct));

        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Equal("INVALID_ARGUMENT", error.ProviderCode);
        Assert.Equal("API key not valid. Please pass a valid API key.", error.ProviderMessage);
        Assert.Contains("GEMINI_API_KEY", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret-key", error.ToString(), StringComparison.Ordinal);
        Assert.False(error.IsTransient);
        Assert.Single(fixture.Emulator.Requests);
    }

    [Fact]
    public async Task Unknown_model_is_a_404_that_names_the_model_setting()
    {
        await using var fixture = await GeminiFixture.StartAsync(o => o.Model = "gemini-0-nope");

        var error = await Assert.ThrowsAsync<GeminiApiException>(() => fixture.Client.GetStreamingResponseAsync("Hi", cancellationToken: Ct).ToListAsync(Ct).AsTask());

        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
        Assert.Equal("NOT_FOUND", error.ProviderCode);
        Assert.Contains("models/gemini-0-nope is not found", error.Message, StringComparison.Ordinal);
        Assert.Contains("GEMINI_MODEL", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(400, "INVALID_ARGUMENT")]
    [InlineData(403, "PERMISSION_DENIED")]
    [InlineData(400, "FAILED_PRECONDITION")]
    public async Task Client_errors_are_not_retried(int code, string status)
    {
        await using var fixture = await GeminiFixture.StartAsync();
        fixture.Emulator.EnqueueFault(GeminiEmulatorFault.Error(code, status, "No."));

        var error = await Assert.ThrowsAsync<GeminiApiException>(() => fixture.Client.GetResponseAsync("Hi", cancellationToken: Ct));

        Assert.Equal((HttpStatusCode)code, error.StatusCode);
        Assert.Equal(status, error.ProviderCode);
        Assert.Single(fixture.Emulator.Requests);
    }

    [Fact]
    public async Task Overloaded_503_and_500_are_retried_until_the_answer_comes()
    {
        await using var fixture = await GeminiFixture.StartAsync();
        fixture.Emulator.EnqueueFault(GeminiEmulatorFault.Unavailable());
        fixture.Emulator.EnqueueFault(GeminiEmulatorFault.Internal());
        fixture.Emulator.Enqueue(GeminiEmulatorAnswer.FromText("Finally."));

        var response = await fixture.Client.GetStreamingResponseAsync("Hi", cancellationToken: Ct).ToChatResponseAsync(Ct);

        Assert.Equal("Finally.", response.Text);
        Assert.Equal(3, fixture.Emulator.Requests.Count);
    }

    [Fact]
    public async Task Rate_limit_retry_waits_the_delay_google_asks_for()
    {
        await using var fixture = await GeminiFixture.StartAsync();
        fixture.Emulator.EnqueueFault(GeminiEmulatorFault.RateLimited(TimeSpan.FromSeconds(0.4)));
        fixture.Emulator.Enqueue(GeminiEmulatorAnswer.FromText("Done."));

        var response = await fixture.Client.GetResponseAsync("Hi", cancellationToken: Ct);

        Assert.Equal("Done.", response.Text);
        var requests = fixture.Emulator.Requests;
        Assert.Equal(2, requests.Count);

        // The base backoff is 10 ms here, so only the server's RetryInfo explains the wait.
        Assert.True(requests[1].ReceivedAt - requests[0].ReceivedAt >= TimeSpan.FromMilliseconds(380), $"retried after {(requests[1].ReceivedAt - requests[0].ReceivedAt).TotalMilliseconds} ms");
    }

    [Fact]
    public async Task Rate_limit_longer_than_the_cap_fails_at_once_with_the_retry_delay()
    {
        await using var fixture = await GeminiFixture.StartAsync(o => o.MaxRetryDelay = TimeSpan.FromSeconds(5));
        fixture.Emulator.EnqueueFault(GeminiEmulatorFault.RateLimited(TimeSpan.FromSeconds(38.5)));

        var error = await Assert.ThrowsAsync<GeminiApiException>(() => fixture.Client.GetResponseAsync("Hi", cancellationToken: Ct));

        Assert.Equal(HttpStatusCode.TooManyRequests, error.StatusCode);
        Assert.Equal("RESOURCE_EXHAUSTED", error.ProviderCode);
        Assert.Equal(TimeSpan.FromSeconds(38.5), error.RetryAfter);
        Assert.True(error.IsTransient);
        Assert.Contains("Retry after 38.5 s", error.Message, StringComparison.Ordinal);
        Assert.Single(fixture.Emulator.Requests);
    }

    [Fact]
    public async Task Retries_give_up_after_max_retries_with_the_last_error()
    {
        await using var fixture = await GeminiFixture.StartAsync(o => o.MaxRetries = 1);
        fixture.Emulator.EnqueueFault(GeminiEmulatorFault.Unavailable());
        fixture.Emulator.EnqueueFault(GeminiEmulatorFault.Unavailable());

        var error = await Assert.ThrowsAsync<GeminiApiException>(() => fixture.Client.GetResponseAsync("Hi", cancellationToken: Ct));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Equal("The model is overloaded. Please try again later.", error.ProviderMessage);
        Assert.Equal(2, fixture.Emulator.Requests.Count);
    }

    [Fact]
    public async Task Error_event_mid_stream_throws_after_the_text_already_received_and_is_not_retried()
    {
        await using var fixture = await GeminiFixture.StartAsync();
        fixture.Emulator.EnqueueFault(GeminiEmulatorFault.ErrorEvent(afterChunks: 1));
        fixture.Emulator.Enqueue(GeminiEmulatorAnswer.FromText("One two three four five six seven eight."));
        var received = new List<string>();

        var error = await Assert.ThrowsAsync<GeminiApiException>(async () =>
        {
            await foreach (var update in fixture.Client.GetStreamingResponseAsync("Count", cancellationToken: Ct))
            {
                received.Add(update.Text);
            }
        });

        Assert.Equal(["One two three four "], received);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.StatusCode);
        Assert.Equal("UNAVAILABLE", error.ProviderCode);
        Assert.Single(fixture.Emulator.Requests);
    }

    [Theory]
    [InlineData(GeminiEmulatorFaultKind.CutMidAnswer)]
    [InlineData(GeminiEmulatorFaultKind.CutMidEvent)]
    [InlineData(GeminiEmulatorFaultKind.EndWithoutFinishReason)]
    public async Task Stream_that_breaks_off_throws_incomplete_after_the_received_text(GeminiEmulatorFaultKind kind)
    {
        await using var fixture = await GeminiFixture.StartAsync();
        fixture.Emulator.EnqueueFault(new GeminiEmulatorFault(kind, AfterChunks: 1));
        fixture.Emulator.Enqueue(GeminiEmulatorAnswer.FromText("One two three four five six seven eight."));
        var received = new List<string>();

        var error = await Assert.ThrowsAsync<GeminiApiException>(async () =>
        {
            await foreach (var update in fixture.Client.GetStreamingResponseAsync("Count", cancellationToken: Ct))
            {
                received.Add(update.Text);
            }
        });

        Assert.Equal(["One two three four "], received);
        Assert.Equal(GeminiApiException.IncompleteStreamCode, error.ProviderCode);
        Assert.True(error.IsTransient);
        Assert.Single(fixture.Emulator.Requests);
    }

    [Fact]
    public async Task Malformed_chunk_throws_a_malformed_response_error()
    {
        await using var fixture = await GeminiFixture.StartAsync();
        fixture.Emulator.EnqueueFault(GeminiEmulatorFault.MalformedChunk(afterChunks: 0));

        var error = await Assert.ThrowsAsync<GeminiApiException>(() => fixture.Client.GetStreamingResponseAsync("Hi", cancellationToken: Ct).ToListAsync(Ct).AsTask());

        Assert.Equal(GeminiApiException.MalformedResponseCode, error.ProviderCode);
        Assert.IsType<System.Text.Json.JsonException>(error.InnerException, exactMatch: false);
    }

    [Fact]
    public async Task Stalled_stream_fails_after_the_idle_timeout_instead_of_hanging()
    {
        await using var fixture = await GeminiFixture.StartAsync(o =>
        {
            o.StreamIdleTimeout = TimeSpan.FromMilliseconds(300);
            o.MaxRetries = 0;
        });
        fixture.Emulator.EnqueueFault(GeminiEmulatorFault.SlowFirstToken(TimeSpan.FromSeconds(30)));

        var error = await Assert.ThrowsAsync<GeminiApiException>(() => fixture.Client.GetStreamingResponseAsync("Hi", cancellationToken: Ct).ToListAsync(Ct).AsTask());

        Assert.Equal(GeminiApiException.IncompleteStreamCode, error.ProviderCode);
        Assert.Contains("stalled", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(GeminiEmulatorFaultKind.ErrorEvent)]
    [InlineData(GeminiEmulatorFaultKind.CutMidEvent)]
    [InlineData(GeminiEmulatorFaultKind.SlowFirstToken)]
    public async Task Stream_failing_before_any_text_is_retried(GeminiEmulatorFaultKind kind)
    {
        await using var fixture = await GeminiFixture.StartAsync(o => o.StreamIdleTimeout = kind == GeminiEmulatorFaultKind.SlowFirstToken ? TimeSpan.FromSeconds(1) : o.StreamIdleTimeout);
        fixture.Emulator.EnqueueFault(new GeminiEmulatorFault(kind, 503, "UNAVAILABLE", "The model is overloaded. Please try again later.", Delay: TimeSpan.FromSeconds(30), AfterChunks: 0));
        fixture.Emulator.Enqueue(GeminiEmulatorAnswer.FromText("Lost."));
        fixture.Emulator.Enqueue(GeminiEmulatorAnswer.FromText("Second try."));

        var response = await fixture.Client.GetStreamingResponseAsync("Hi", cancellationToken: Ct).ToChatResponseAsync(Ct);

        Assert.Equal("Second try.", response.Text);
        Assert.Equal(2, fixture.Emulator.Requests.Count);
    }

    [Fact]
    public async Task Slow_first_token_within_the_idle_timeout_still_streams()
    {
        await using var fixture = await GeminiFixture.StartAsync();
        fixture.Emulator.EnqueueFault(GeminiEmulatorFault.SlowFirstToken(TimeSpan.FromMilliseconds(200)));

        var response = await fixture.Client.GetStreamingResponseAsync("Hi", cancellationToken: Ct).ToChatResponseAsync(Ct);

        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
    }

    [Fact]
    public async Task Caller_cancellation_stops_a_stream_with_operation_canceled()
    {
        await using var fixture = await GeminiFixture.StartAsync();
        fixture.Emulator.EnqueueFault(GeminiEmulatorFault.SlowFirstToken(TimeSpan.FromSeconds(30)));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => fixture.Client.GetStreamingResponseAsync("Hi", cancellationToken: cts.Token).ToListAsync(cts.Token).AsTask());
    }

    [Fact]
    public async Task Unreachable_service_is_a_gemini_error_naming_the_address()
    {
        await using var fixture = await GeminiFixture.StartAsync(o =>
        {
            o.BaseUrl = new Uri("http://127.0.0.1:9");
            o.MaxRetries = 0;
        });

        var error = await Assert.ThrowsAsync<GeminiApiException>(() => fixture.Client.GetResponseAsync("Hi", cancellationToken: Ct));

        Assert.Contains("http://127.0.0.1:9", error.Message, StringComparison.Ordinal);
        Assert.IsType<HttpRequestException>(error.InnerException);
        Assert.True(error.IsTransient);
    }
}
