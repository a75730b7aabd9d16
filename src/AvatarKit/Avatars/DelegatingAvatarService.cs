namespace AvatarKit;

/// <summary>
/// An <see cref="IAvatarService"/> that passes every call to an inner service: the base of avatar
/// middleware (logging, caching of the catalogue, limits…), as <c>DelegatingChatClient</c> is for chat.
/// Override what the middleware changes; the rest forwards.
/// </summary>
public class DelegatingAvatarService : IAvatarService, IAsyncDisposable
{
    /// <summary>Initializes a new instance wrapping <paramref name="innerService"/>.</summary>
    /// <param name="innerService">The service calls are passed to.</param>
    protected DelegatingAvatarService(IAvatarService innerService)
    {
        InnerService = Throw.IfNull(innerService);
    }

    /// <summary>Gets the service calls are passed to.</summary>
    protected IAvatarService InnerService { get; }

    /// <inheritdoc />
    public virtual Task<IReadOnlyList<AvatarInfo>> ListAvatarsAsync(CancellationToken cancellationToken = default) =>
        InnerService.ListAvatarsAsync(cancellationToken);

    /// <inheritdoc />
    public virtual Task<IAvatarSession> StartSessionAsync(AvatarSessionOptions? options = null, CancellationToken cancellationToken = default) =>
        InnerService.StartSessionAsync(options, cancellationToken);

    /// <inheritdoc />
    public virtual Task<IReadOnlyList<AvatarSessionInfo>> ListActiveSessionsAsync(CancellationToken cancellationToken = default) =>
        InnerService.ListActiveSessionsAsync(cancellationToken);

    /// <inheritdoc />
    public virtual Task<int> CloseAllSessionsAsync(CancellationToken cancellationToken = default) =>
        InnerService.CloseAllSessionsAsync(cancellationToken);

    /// <summary>Returns this instance when it is of <paramref name="serviceType"/>, else asks the inner service.</summary>
    /// <param name="serviceType">The type of the service.</param>
    /// <param name="serviceKey">An optional key.</param>
    /// <returns>The service, or <see langword="null"/>.</returns>
    public virtual object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType.IsInstanceOfType(this) ? this : InnerService.GetService(serviceType, serviceKey);
    }

    /// <summary>Disposes the inner service when it is disposable (a provider's service stops its sessions).</summary>
    /// <returns>A task that completes when the inner service is disposed.</returns>
    public async ValueTask DisposeAsync()
    {
        await DisposeAsyncCore().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the inner service when it is disposable; override to release the middleware's own resources too.</summary>
    /// <returns>A task that completes when done.</returns>
    protected virtual async ValueTask DisposeAsyncCore()
    {
        switch (InnerService)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync().ConfigureAwait(false);
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }
}
