namespace AvatarKit;

/// <summary>An avatar from a provider's catalogue.</summary>
/// <param name="Id">The provider's avatar id.</param>
/// <param name="Name">The display name.</param>
public sealed record AvatarInfo(string Id, string Name)
{
    /// <summary>Gets a preview picture of the avatar.</summary>
    public Uri? PreviewImageUrl { get; init; }

    /// <summary>Gets the avatar's default voice id.</summary>
    public string? DefaultVoiceId { get; init; }

    /// <summary>Gets a value indicating whether the avatar is public (rather than the account's own).</summary>
    public bool IsPublic { get; init; }
}
