namespace AvatarKit.HeyGen;

/// <summary>Settings shared by the LiveAvatar and the legacy HeyGen Streaming services.</summary>
public abstract class HeyGenServiceOptions
{
    /// <summary>Gets or sets the account API key. Never logged.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Gets or sets the API base URL (an emulator or gateway instead of the provider's).</summary>
    public Uri? BaseUrl { get; set; }

    /// <summary>Gets or sets the avatar; <see cref="AvatarKitOptions.DefaultAvatarId"/> (<c>DEFAULT_AVATAR_ID</c>) when null.</summary>
    public string? AvatarId { get; set; }

    /// <summary>Gets or sets the video quality; <see cref="AvatarKitOptions.DefaultQuality"/> (<c>DEFAULT_QUALITY</c>), then high, when null.</summary>
    public AvatarQuality? Quality { get; set; }

    /// <summary>Gets or sets the voice; the avatar's default when null.</summary>
    public string? VoiceId { get; set; }

    /// <summary>Gets or sets the language (e.g. <c>en</c>).</summary>
    public string? Language { get; set; }

    /// <summary>Gets or sets how many sessions this process keeps open at once; starting one more closes the oldest (default 1).</summary>
    public int MaxConcurrentSessions { get; set; } = 1;

    /// <summary>
    /// Gets or sets a value indicating whether the first start stops the account's active sessions that
    /// this process did not open (left by a crashed process). Off by default: it also stops sessions of
    /// other live processes that share the account.
    /// </summary>
    public bool ReclaimStaleSessions { get; set; }

    /// <summary>Gets or sets a value indicating whether open sessions are stopped when the process exits (Ctrl+C, SIGTERM, unhandled exception).</summary>
    public bool StopSessionsOnProcessExit { get; set; } = true;

    /// <summary>Gets or sets how often an open session is kept alive (the provider ends idle sessions).</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Gets or sets how long to wait for the avatar to join the room after start.</summary>
    public TimeSpan AvatarJoinTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how often a failed idempotent call is retried (429, 5xx, network errors; never a call that may have started something).</summary>
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>Gets or sets the first retry delay; later ones back off exponentially, and <c>Retry-After</c> wins when the provider sends it.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Gets or sets the timeout of one HTTP attempt.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long disposing a session waits for the provider to confirm the stop.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Gets or sets the length of the first audio chunk sent over a LITE WebSocket (the official guide uses 600 ms).</summary>
    public TimeSpan LiteFirstChunk { get; set; } = TimeSpan.FromMilliseconds(600);

    /// <summary>Gets or sets the length of later LITE audio chunks (1 s recommended; at most about 10 s per 1 MB message).</summary>
    public TimeSpan LiteChunk { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how far ahead of real time LITE audio may be sent: the backpressure bound on the server's buffer.</summary>
    public TimeSpan LiteLeadTime { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Checks the settings; one message per problem.</summary>
    /// <param name="apiKeyVariable">The environment variable that supplies the key.</param>
    /// <returns>The problems.</returns>
    private protected IEnumerable<string> ValidateCommon(string apiKeyVariable)
    {
        if (string.IsNullOrWhiteSpace(ApiKey))
        {
            yield return $"ApiKey is not set; set {apiKeyVariable} or configure ApiKey.";
        }

        if (BaseUrl is null || !BaseUrl.IsAbsoluteUri)
        {
            yield return "BaseUrl must be an absolute URL.";
        }

        if (MaxConcurrentSessions < 1)
        {
            yield return "MaxConcurrentSessions must be at least 1.";
        }

        if (KeepAliveInterval <= TimeSpan.Zero)
        {
            yield return "KeepAliveInterval must be positive.";
        }

        if (MaxRetryAttempts < 0 || RetryBaseDelay < TimeSpan.Zero || RequestTimeout <= TimeSpan.Zero || StopTimeout <= TimeSpan.Zero)
        {
            yield return "MaxRetryAttempts, RetryBaseDelay, RequestTimeout and StopTimeout must not be negative (timeouts positive).";
        }

        if (LiteFirstChunk <= TimeSpan.Zero || LiteChunk <= TimeSpan.Zero || LiteChunk > TimeSpan.FromSeconds(10))
        {
            yield return "LiteFirstChunk and LiteChunk must be positive, and LiteChunk at most 10 s (1 MB per WebSocket message).";
        }
    }
}
