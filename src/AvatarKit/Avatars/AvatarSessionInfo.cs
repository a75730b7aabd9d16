namespace AvatarKit;

/// <summary>An active session of an account.</summary>
/// <param name="SessionId">The provider's session id.</param>
public sealed record AvatarSessionInfo(string SessionId)
{
    /// <summary>Gets the avatar of the session, when the provider says.</summary>
    public string? AvatarId { get; init; }

    /// <summary>Gets the provider's status text.</summary>
    public string? Status { get; init; }

    /// <summary>Gets when the session was created, when the provider says.</summary>
    public DateTimeOffset? CreatedAt { get; init; }
}
