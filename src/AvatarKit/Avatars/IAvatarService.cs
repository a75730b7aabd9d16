namespace AvatarKit;

/// <summary>
/// A real-time avatar provider: lists avatars, starts sessions, and manages the account's
/// active sessions. Implementations are thread-safe and registered as singletons.
/// </summary>
public interface IAvatarService
{
    /// <summary>Lists the avatars this account can use (public and its own).</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The avatars.</returns>
    Task<IReadOnlyList<AvatarInfo>> ListAvatarsAsync(CancellationToken cancellationToken = default);

    /// <summary>Starts a session: the avatar joins a room and is ready to speak.</summary>
    /// <param name="options">Avatar, quality and provider settings; the configured defaults when null.</param>
    /// <param name="cancellationToken">Cancels starting; a remote session already created is stopped.</param>
    /// <returns>The ready session; dispose it to stop the remote session.</returns>
    /// <exception cref="AvatarApiException">The provider refused (bad key, unknown avatar, concurrency limit…).</exception>
    Task<IAvatarSession> StartSessionAsync(AvatarSessionOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Lists the account's active sessions, including ones other processes opened.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The active sessions.</returns>
    Task<IReadOnlyList<AvatarSessionInfo>> ListActiveSessionsAsync(CancellationToken cancellationToken = default);

    /// <summary>Stops every active session of the account.</summary>
    /// <param name="cancellationToken">Cancels the remaining stops.</param>
    /// <returns>The number of sessions stopped.</returns>
    Task<int> CloseAllSessionsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Asks for a service the implementation provides, as in Microsoft.Extensions.AI: its
    /// <see cref="AvatarMetadata"/>, its options, its API client, or the service itself.
    /// </summary>
    /// <param name="serviceType">The type of the service.</param>
    /// <param name="serviceKey">An optional key.</param>
    /// <returns>The service, or <see langword="null"/>.</returns>
    object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType?.IsInstanceOfType(this) == true ? this : null;
}
