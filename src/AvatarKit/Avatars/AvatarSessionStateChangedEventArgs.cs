namespace AvatarKit;

/// <summary>Arguments of <see cref="IAvatarSession.StateChanged"/>.</summary>
/// <param name="previous">The state before.</param>
/// <param name="current">The state now.</param>
/// <param name="reason">Why, when known (e.g. the provider ended the session).</param>
public sealed class AvatarSessionStateChangedEventArgs(AvatarSessionState previous, AvatarSessionState current, string? reason = null) : EventArgs
{
    /// <summary>Gets the state before.</summary>
    public AvatarSessionState Previous { get; } = previous;

    /// <summary>Gets the state now.</summary>
    public AvatarSessionState Current { get; } = current;

    /// <summary>Gets why the state changed, when known.</summary>
    public string? Reason { get; } = reason;
}
