namespace AvatarKit.LiveKit;

/// <summary>Settings of the LiveKit room connector (configuration section <c>AvatarKit:LiveKit</c>).</summary>
public sealed class LiveKitOptions
{
    /// <summary>Gets or sets how long joining a room may take before it fails (default 15 s).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Gets or sets how many times the SDK retries the signaling connection when joining (default 1).</summary>
    public int JoinRetries { get; set; } = 1;

    /// <summary>Gets or sets how many decoded video frames a reader may fall behind before the oldest are dropped (default 4).</summary>
    public int VideoQueueFrames { get; set; } = 4;

    /// <summary>Gets or sets how many 10 ms audio frames a reader may fall behind before the oldest are dropped (default 200, 2 s).</summary>
    public int AudioQueueFrames { get; set; } = 200;

    /// <summary>Gets or sets the default server URL (<c>LIVEKIT_URL</c>), used by tools that mint their own tokens.</summary>
    public Uri? Url { get; set; }

    /// <summary>Gets or sets the API key (<c>LIVEKIT_API_KEY</c>) tools use to mint tokens; never logged.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Gets or sets the API secret (<c>LIVEKIT_API_SECRET</c>) tools use to mint tokens; never logged.</summary>
    public string? ApiSecret { get; set; }

    internal IEnumerable<string> Validate()
    {
        if (ConnectTimeout <= TimeSpan.Zero)
        {
            yield return "ConnectTimeout must be positive; set AvatarKit:LiveKit:ConnectTimeout (e.g. 00:00:15).";
        }

        if (JoinRetries < 0)
        {
            yield return "JoinRetries must be 0 or more; set AvatarKit:LiveKit:JoinRetries.";
        }

        if (VideoQueueFrames < 1)
        {
            yield return "VideoQueueFrames must be at least 1; set AvatarKit:LiveKit:VideoQueueFrames.";
        }

        if (AudioQueueFrames < 1)
        {
            yield return "AudioQueueFrames must be at least 1; set AvatarKit:LiveKit:AudioQueueFrames.";
        }
    }
}
