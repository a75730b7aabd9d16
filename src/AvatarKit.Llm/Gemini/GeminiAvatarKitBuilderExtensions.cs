using AvatarKit;
using AvatarKit.Llm;
using AvatarKit.Llm.Gemini;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Gemini as the conversation's <see cref="IChatClient"/>.</summary>
public static class GeminiAvatarKitBuilderExtensions
{
    /// <summary>The name of the HTTP client Gemini requests go through (retries are attached to it).</summary>
    public const string HttpClientName = "AvatarKit.Gemini";

    /// <summary>
    /// Registers <see cref="GeminiChatClient"/> and makes it the <see cref="IChatClient"/>, with settings
    /// from <c>AvatarKit:Gemini</c>, <paramref name="configure"/>, then <c>GEMINI_API_KEY</c> /
    /// <c>GEMINI_MODEL</c>, validated at start. Requests go through an HTTP client that retries 429
    /// and 5xx answers as the service asks (<see cref="GeminiOptions.MaxRetries"/>).
    /// </summary>
    /// <param name="builder">The AvatarKit builder.</param>
    /// <param name="configure">Settings from code; may be null.</param>
    /// <returns>The chat client builder, to add middleware: <c>.UseLogging().UseOpenTelemetry().UseFunctionInvocation()</c>.</returns>
    public static ChatClientBuilder AddGemini(this AvatarKitBuilder builder, Action<GeminiOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddOptions("Gemini", configure, FillFromEnvironment, Validate);
        builder.Services
            .AddHttpClient(HttpClientName, (services, http) =>
            {
                // GeminiChatClient applies its own per-request and stream-idle timeouts.
                http.Timeout = Timeout.InfiniteTimeSpan;
            })
            .AddResilienceHandler("gemini-retry", (pipeline, context) =>
            {
                var options = context.ServiceProvider.GetRequiredService<IOptions<GeminiOptions>>().Value;
                if (options.MaxRetries > 0)
                {
                    pipeline.AddRetry(GeminiRetryPolicy.Create(options));
                }
            });
        builder.Services.AddSingleton(services => new GeminiChatClient(
            services.GetRequiredService<IHttpClientFactory>().CreateClient(HttpClientName),
            services.GetRequiredService<IOptions<GeminiOptions>>().Value,
            services.GetService<ILogger<GeminiChatClient>>()));
        return builder.Services.AddChatClient(services => services.GetRequiredService<GeminiChatClient>());
    }

    private static void FillFromEnvironment(GeminiOptions options, Func<string, string?> environment)
    {
        if (string.IsNullOrWhiteSpace(options.ApiKey))
        {
            options.ApiKey = environment("GEMINI_API_KEY");
        }

        if (options.Model == GeminiOptions.DefaultModel && environment("GEMINI_MODEL") is { } model)
        {
            options.Model = model;
        }
    }

    private static IEnumerable<string> Validate(GeminiOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.ApiKey))
        {
            yield return "ApiKey is not set; set GEMINI_API_KEY or AvatarKit:Gemini:ApiKey (get one at https://aistudio.google.com/apikey).";
        }

        if (string.IsNullOrWhiteSpace(options.Model))
        {
            yield return "Model is empty; set AvatarKit:Gemini:Model or GEMINI_MODEL, e.g. gemini-2.5-flash.";
        }

        if (options.BaseUrl is not { IsAbsoluteUri: true } url || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            yield return $"BaseUrl '{options.BaseUrl}' is not an absolute http(s) URL; set AvatarKit:Gemini:BaseUrl.";
        }

        if (options.ApiVersion is not ("v1" or "v1beta" or "v1alpha"))
        {
            yield return $"ApiVersion '{options.ApiVersion}' is not v1, v1beta or v1alpha; set AvatarKit:Gemini:ApiVersion.";
        }

        if (options.ThinkingBudget is not null && options.ThinkingLevel is not null)
        {
            yield return "ThinkingBudget and ThinkingLevel are both set; Gemini rejects that, set only one (budget for 2.5 models, level for 3.x).";
        }

        if (options.MaxRetries < 0 || options.RequestTimeout <= TimeSpan.Zero || options.StreamIdleTimeout <= TimeSpan.Zero || options.MaxRetryDelay < TimeSpan.Zero)
        {
            yield return "MaxRetries, RequestTimeout, StreamIdleTimeout and MaxRetryDelay must not be negative (timeouts must be positive).";
        }
    }
}
