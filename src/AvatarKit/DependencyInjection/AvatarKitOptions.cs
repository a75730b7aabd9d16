namespace AvatarKit;

/// <summary>
/// Settings shared by every AvatarKit package. Bound from the <c>AvatarKit</c> configuration
/// section, then from the environment names <c>DEFAULT_AVATAR_ID</c>, <c>DEFAULT_QUALITY</c> and
/// <c>OUTPUT_DIR</c> for whatever is still unset.
/// </summary>
public sealed class AvatarKitOptions
{
    /// <summary>Gets or sets the avatar sessions use when none is given.</summary>
    public string? DefaultAvatarId { get; set; }

    /// <summary>Gets or sets the video quality sessions use when none is given.</summary>
    public AvatarQuality? DefaultQuality { get; set; }

    /// <summary>Gets or sets the directory recordings are written to; <c>outputs</c> by default.</summary>
    public string? OutputDirectory { get; set; }
}
