namespace AvatarKit;

/// <summary>Settings for <see cref="IAvatarService.StartSessionAsync"/>.</summary>
public sealed class AvatarSessionOptions
{
    /// <summary>Gets or sets the avatar to use; the configured default when null.</summary>
    public string? AvatarId { get; set; }

    /// <summary>Gets or sets the voice; the avatar's default when null.</summary>
    public string? VoiceId { get; set; }

    /// <summary>Gets or sets the language (BCP-47, e.g. <c>en</c>).</summary>
    public string? Language { get; set; }

    /// <summary>Gets or sets the video quality; the configured default when null.</summary>
    public AvatarQuality? Quality { get; set; }

    /// <summary>Gets or sets provider-specific settings.</summary>
    public IDictionary<string, object?>? AdditionalProperties { get; set; }

    /// <summary>Copies these settings, so middleware can change a copy without touching the caller's.</summary>
    /// <returns>A copy; <see cref="AdditionalProperties"/> is a new dictionary with the same entries.</returns>
    public AvatarSessionOptions Clone() => new()
    {
        AvatarId = AvatarId,
        VoiceId = VoiceId,
        Language = Language,
        Quality = Quality,
        AdditionalProperties = AdditionalProperties is null ? null : new Dictionary<string, object?>(AdditionalProperties),
    };
}
