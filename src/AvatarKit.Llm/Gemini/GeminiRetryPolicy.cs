using System.Net;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace AvatarKit.Llm.Gemini;

/// <summary>
/// The retry strategy of the Gemini HTTP client: 429, 500, 502, 503, 504 and network failures are
/// retried, waiting as long as Google's <c>RetryInfo</c> (or <c>Retry-After</c>) asks, else with
/// jittered exponential backoff. It acts on response status only, so a stream that has started
/// (HTTP 200) is never replayed.
/// </summary>
internal static class GeminiRetryPolicy
{
    public static HttpRetryStrategyOptions Create(GeminiOptions options) => new()
    {
        MaxRetryAttempts = options.MaxRetries,
        Delay = options.RetryBaseDelay,
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
        ShouldRetryAfterHeader = false,
        ShouldHandle = async args => args.Outcome switch
        {
            { Exception: HttpRequestException } => true,
            { Result: { } response } when IsRetryable(response.StatusCode) =>
                await GetServerDelayAsync(response, args.Context.CancellationToken).ConfigureAwait(false) is not { } delay || delay <= options.MaxRetryDelay,
            _ => false,
        },
        DelayGenerator = async args => args.Outcome.Result is { } response
            ? await GetServerDelayAsync(response, args.Context.CancellationToken).ConfigureAwait(false)
            : null,
    };

    public static bool IsRetryable(HttpStatusCode status) => status is HttpStatusCode.TooManyRequests
        or HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    private static async ValueTask<TimeSpan?> GetServerDelayAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        // Buffered so that the client can still read the error body when no retry happens.
        await response.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return (GoogleErrors.TryParse(body) is { } error ? GoogleErrors.GetRetryDelay(error) : null)
            ?? GoogleErrors.GetRetryAfterHeader(response);
    }
}
