namespace AvatarKit.HeyGen;

/// <summary>How a LiveAvatar session is driven.</summary>
public enum LiveAvatarMode
{
    /// <summary>LiveAvatar runs speech and the LLM; AvatarKit steers it with events on the room's data channel (2 credits/min).</summary>
    Full,

    /// <summary>AvatarKit brings the voice: text-to-speech audio is streamed over a WebSocket and lip-synced (1 credit/min).</summary>
    Lite,
}

/// <summary>Settings of the LiveAvatar service. Bound from <c>AvatarKit:LiveAvatar</c>; the key from <c>LIVEAVATAR_API_KEY</c>.</summary>
public sealed class LiveAvatarOptions : HeyGenServiceOptions
{
    /// <summary>The provider's API URL.</summary>
    public static readonly Uri DefaultBaseUrl = new("https://api.liveavatar.com/");

    /// <summary>The sandbox avatar ("Wayne"), the only one sandbox sessions may use.</summary>
    public const string SandboxAvatarId = "dd73ea75-1218-4ef3-92ce-606d5f7fbc0a";

    /// <summary>Initializes a new instance with the provider's URL.</summary>
    public LiveAvatarOptions()
    {
        BaseUrl = DefaultBaseUrl;
    }

    /// <summary>Gets or sets the mode (FULL by default).</summary>
    public LiveAvatarMode Mode { get; set; } = LiveAvatarMode.Full;

    /// <summary>Gets or sets a value indicating whether sessions run in the free sandbox (about one minute, sandbox avatar only).</summary>
    public bool IsSandbox { get; set; }

    /// <summary>Gets or sets the FULL-mode context (persona and knowledge); without one the FULL avatar only repeats text.</summary>
    public string? ContextId { get; set; }

    /// <summary>Gets or sets the video encoding (<c>VP8</c> or <c>H264</c>); the provider's default when null.</summary>
    public string? VideoEncoding { get; set; }

    /// <summary>Gets or sets the longest session to ask for; the plan's limit when null.</summary>
    public TimeSpan? MaxSessionDuration { get; set; }

    /// <summary>Gets or sets a value indicating whether FULL-mode text is treated as user input that LiveAvatar's LLM answers (<c>avatar.speak_response</c>) rather than spoken verbatim.</summary>
    public bool SpeakAsResponse { get; set; }

    /// <summary>
    /// Gets or sets the most credits this service may spend, as estimated by the credit meter (FULL 2/min, LITE 1/min,
    /// sandbox free; each started minute counts). A start that would pass it is refused, and an open session ends
    /// cleanly before its next minute would. No cap when null.
    /// </summary>
    public double? CreditCap { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether a session that reaches its maximum duration (about a minute in the
    /// sandbox) or ends unexpectedly is renewed: a replacement session is started, the conversation moves to it,
    /// and the sentence that was cut is spoken again. On by default.
    /// </summary>
    public bool AutoRenew { get; set; } = true;

    /// <summary>Gets or sets how long before the maximum duration the replacement session is started.</summary>
    public TimeSpan RenewBeforeEnd { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets the billing period of the credit meter; a minute, as the provider meters (shorter only in tests).</summary>
    internal TimeSpan BillingMinute { get; set; } = TimeSpan.FromMinutes(1);

    internal IEnumerable<string> Validate()
    {
        foreach (var problem in ValidateCommon("LIVEAVATAR_API_KEY"))
        {
            yield return problem;
        }

        if (CreditCap is < 0)
        {
            yield return "CreditCap must not be negative.";
        }

        if (VideoEncoding is not (null or "VP8" or "H264"))
        {
            yield return $"VideoEncoding '{VideoEncoding}' is not VP8 or H264.";
        }
    }
}
