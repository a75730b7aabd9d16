namespace AvatarKit;

/// <summary>
/// Describes an avatar provider, the way <c>ChatClientMetadata</c> describes a chat client: ask an
/// <see cref="IAvatarService"/> or <see cref="IAvatarSession"/> for it with
/// <c>GetService(typeof(AvatarMetadata))</c>.
/// </summary>
/// <param name="providerName">The provider's name, e.g. <c>liveavatar</c>.</param>
/// <param name="providerUri">The provider's endpoint.</param>
/// <param name="avatarId">A service's default avatar, or a session's avatar.</param>
public sealed class AvatarMetadata(string? providerName = null, Uri? providerUri = null, string? avatarId = null)
{
    /// <summary>Gets the provider's name, e.g. <c>liveavatar</c> or <c>heygen-streaming</c>.</summary>
    public string? ProviderName { get; } = providerName;

    /// <summary>Gets the provider's endpoint.</summary>
    public Uri? ProviderUri { get; } = providerUri;

    /// <summary>Gets a service's default avatar, or a session's avatar.</summary>
    public string? AvatarId { get; } = avatarId;
}
