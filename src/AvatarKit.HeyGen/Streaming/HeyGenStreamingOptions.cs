namespace AvatarKit.HeyGen;

/// <summary>
/// Settings of the legacy HeyGen Streaming API v1 service (sunset 2026-03-31; for accounts and gateways that still
/// expose it). Bound from <c>AvatarKit:HeyGenStreaming</c>; the key from <c>HEYGEN_API_KEY</c>.
/// </summary>
public sealed class HeyGenStreamingOptions : HeyGenServiceOptions
{
    /// <summary>The provider's API URL.</summary>
    public static readonly Uri DefaultBaseUrl = new("https://api.heygen.com/");

    /// <summary>Initializes a new instance with the provider's URL.</summary>
    public HeyGenStreamingOptions()
    {
        BaseUrl = DefaultBaseUrl;
    }

    /// <summary>Gets or sets a value indicating whether text is user input HeyGen's LLM answers (<c>talk</c>) rather than spoken verbatim (<c>repeat</c>, the default: AvatarKit brings its own LLM).</summary>
    public bool Talk { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the avatar speaks with your own voice, LITE-style: text becomes speech
    /// through the registered <see cref="Microsoft.Extensions.AI.ITextToSpeechClient"/> and is streamed as PCM16 24 kHz
    /// over the session's <c>realtime_endpoint</c> WebSocket (the commands LiveAvatar LITE later adopted) instead of
    /// being sent as <c>streaming.task</c>. Off by default (HeyGen's voice).
    /// </summary>
    public bool UseRealtimeEndpoint { get; set; }

    /// <summary>Gets or sets the knowledge base used by <c>talk</c> tasks.</summary>
    public string? KnowledgeBaseId { get; set; }

    /// <summary>Gets or sets the idle timeout the session asks for (30 s to 1 h; 120 s by default on the provider).</summary>
    public TimeSpan? ActivityIdleTimeout { get; set; }

    /// <summary>Gets or sets the video encoding (<c>H264</c> or <c>VP8</c>).</summary>
    public string? VideoEncoding { get; set; }

    internal IEnumerable<string> Validate()
    {
        foreach (var problem in ValidateCommon("HEYGEN_API_KEY"))
        {
            yield return problem;
        }

        if (UseRealtimeEndpoint && Talk)
        {
            yield return "Talk and UseRealtimeEndpoint exclude each other: the realtime endpoint speaks your own voice verbatim, with no HeyGen LLM.";
        }

        if (ActivityIdleTimeout is { } idle && (idle < TimeSpan.FromSeconds(30) || idle > TimeSpan.FromHours(1)))
        {
            yield return "ActivityIdleTimeout must be between 30 s and 1 h.";
        }
    }
}
