namespace AvatarKit;

/// <summary>Video quality an avatar session renders at.</summary>
public enum AvatarQuality
{
    /// <summary>Low resolution, lowest cost.</summary>
    Low,

    /// <summary>Medium resolution.</summary>
    Medium,

    /// <summary>High resolution (e.g. 1280x720).</summary>
    High,
}
