using System.Net;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Refit;

namespace AvatarKit.HeyGen;

/// <summary>Registers a provider's Refit client with the API key, typed errors and retries.</summary>
internal static class HeyGenHttp
{
    // Calls that may have created or started something: retried only when the provider refused them outright (429).
    private static readonly string[] NonIdempotentPaths = ["/v1/sessions/start", "/v1/streaming.new", "/v1/streaming.start", "/v1/streaming.task"];

    public static IHttpClientBuilder AddClient<TApi, TOptions>(IServiceCollection services, string provider, string apiKeyHeader, string apiKeySetting, JsonSerializerContext json)
        where TApi : class
        where TOptions : HeyGenServiceOptions
    {
        var client = services
            .AddRefitGeneratedClient<TApi>(json, sp =>
            {
                var options = sp.GetRequiredService<IOptionsMonitor<TOptions>>();
                return new RefitSettings
                {
                    ContentSerializer = new SystemTextJsonContentSerializer(json.Options),
                    ExceptionFactory = response => new ValueTask<Exception?>(ApiErrors.CreateAsync(response, provider, apiKeySetting, () => options.CurrentValue.ApiKey)),
                };
            })
            .ConfigureHttpClient((sp, client) =>
            {
                client.BaseAddress = sp.GetRequiredService<IOptions<TOptions>>().Value.BaseUrl;

                // Per-attempt timeouts come from the resilience pipeline.
                client.Timeout = Timeout.InfiniteTimeSpan;
            })
            .AddHttpMessageHandler(sp =>
            {
                var options = sp.GetRequiredService<IOptionsMonitor<TOptions>>();
                return new ApiKeyHandler(apiKeyHeader, () => options.CurrentValue.ApiKey);
            });
        client.AddResilienceHandler($"{provider}-retry", (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<TOptions>>().Value;
                if (options.MaxRetryAttempts > 0)
                {
                    pipeline.AddRetry(new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = options.MaxRetryAttempts,
                        Delay = options.RetryBaseDelay,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                        MaxDelay = TimeSpan.FromSeconds(30),
                        ShouldRetryAfterHeader = true,
                        ShouldHandle = args => ValueTask.FromResult(ShouldRetry(args.Context.GetRequestMessage(), args.Outcome)),
                    });
                }

                pipeline.AddTimeout(options.RequestTimeout);
            });
        return client;
    }

    internal static bool ShouldRetry(HttpRequestMessage? request, Outcome<HttpResponseMessage> outcome)
    {
        var status = outcome.Result?.StatusCode;
        if (status == HttpStatusCode.TooManyRequests)
        {
            return true;
        }

        var path = request?.RequestUri?.AbsolutePath;
        if (path is not null && NonIdempotentPaths.Contains(path, StringComparer.OrdinalIgnoreCase))
        {
            return false;
        }

        return outcome.Exception is HttpRequestException or Polly.Timeout.TimeoutRejectedException
            || status is HttpStatusCode.RequestTimeout
            || (int?)status >= 500;
    }
}
