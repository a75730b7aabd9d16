namespace AvatarKit.Llm;

/// <summary>
/// Settings of <see cref="GeminiChatClient"/>. Bound from <c>AvatarKit:Gemini</c>; the API key falls
/// back to <c>GEMINI_API_KEY</c> and the model to <c>GEMINI_MODEL</c>. Validated at start.
/// </summary>
public sealed class GeminiOptions
{
    /// <summary>The production endpoint.</summary>
    public static readonly Uri DefaultBaseUrl = new("https://generativelanguage.googleapis.com");

    /// <summary>The model used when none is configured: a current Flash-Lite alias, fast enough for live talk.</summary>
    public const string DefaultModel = "gemini-flash-lite-latest";

    /// <summary>Gets or sets the API key (sent as the <c>x-goog-api-key</c> header, never logged).</summary>
    public string? ApiKey { get; set; }

    /// <summary>Gets or sets the model id, e.g. <c>gemini-2.5-flash</c>; <c>ChatOptions.ModelId</c> overrides it per call.</summary>
    public string Model { get; set; } = DefaultModel;

    /// <summary>Gets or sets the service origin (no version); an emulator's address in tests.</summary>
    public Uri BaseUrl { get; set; } = DefaultBaseUrl;

    /// <summary>Gets or sets the API version path segment: <c>v1beta</c> (default, has thinking and JSON schema) or <c>v1</c>.</summary>
    public string ApiVersion { get; set; } = "v1beta";

    /// <summary>
    /// Gets or sets the thinking budget sent with every request unless a call sets <c>thinkingBudget</c>
    /// in <c>ChatOptions.AdditionalProperties</c>: 0 turns thinking off on 2.5 Flash models (lowest
    /// latency), -1 lets the model decide, null sends nothing.
    /// </summary>
    public int? ThinkingBudget { get; set; }

    /// <summary>
    /// Gets or sets the thinking level for Gemini 3 models (<c>MINIMAL</c>, <c>LOW</c>, <c>MEDIUM</c>,
    /// <c>HIGH</c>) unless a call sets <c>thinkingLevel</c>; do not combine with <see cref="ThinkingBudget"/>.
    /// </summary>
    public string? ThinkingLevel { get; set; }

    /// <summary>Gets or sets how often a 429/5xx answer or a network failure is retried before any text arrived; 0 disables retries.</summary>
    public int MaxRetries { get; set; } = 2;

    /// <summary>Gets or sets the first backoff delay when the service gives none; doubles with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Gets or sets the longest server-requested retry delay the client waits for; a longer one (a
    /// spent quota) fails at once with <see cref="AvatarApiException.RetryAfter"/> set.
    /// </summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how long a request may wait for the response headers.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Gets or sets the longest silence allowed inside a streaming answer before it is abandoned as stalled.</summary>
    public TimeSpan StreamIdleTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
