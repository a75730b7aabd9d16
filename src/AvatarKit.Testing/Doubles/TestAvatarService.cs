namespace AvatarKit.Testing;

/// <summary>
/// An <see cref="IAvatarService"/> for tests, configured with delegates. By default it starts the
/// session it was given (or a new <see cref="TestAvatarSession"/> each time), lists one avatar,
/// lists the sessions it started that are not closed, and closing all disposes them.
/// </summary>
public sealed class TestAvatarService : IAvatarService
{
    private readonly Lock _lock = new();
    private readonly IAvatarSession? _session;
    private readonly List<IAvatarSession> _started = [];
    private readonly List<AvatarSessionOptions?> _startRequests = [];

    /// <summary>Initializes a service that starts a new <see cref="TestAvatarSession"/> for each request.</summary>
    public TestAvatarService()
    {
    }

    /// <summary>Initializes a service that returns <paramref name="session"/> for every start.</summary>
    /// <param name="session">The session to return.</param>
    public TestAvatarService(IAvatarSession session)
    {
        _session = session ?? throw new ArgumentNullException(nameof(session));
    }

    /// <summary>Gets or sets what <see cref="StartSessionAsync"/> does; when null, the default above. A callback that throws plays a refusal.</summary>
    public Func<AvatarSessionOptions?, CancellationToken, Task<IAvatarSession>>? StartSessionAsyncCallback { get; set; }

    /// <summary>Gets or sets what <see cref="ListAvatarsAsync"/> returns; when null, one avatar, <c>test-avatar</c>.</summary>
    public Func<CancellationToken, Task<IReadOnlyList<AvatarInfo>>>? ListAvatarsAsyncCallback { get; set; }

    /// <summary>Gets or sets what <see cref="ListActiveSessionsAsync"/> returns; when null, the started sessions that are not closed.</summary>
    public Func<CancellationToken, Task<IReadOnlyList<AvatarSessionInfo>>>? ListActiveSessionsAsyncCallback { get; set; }

    /// <summary>Gets or sets what <see cref="CloseAllSessionsAsync"/> does; when null, it disposes the started sessions that are not closed.</summary>
    public Func<CancellationToken, Task<int>>? CloseAllSessionsAsyncCallback { get; set; }

    /// <summary>Gets or sets what <see cref="GetService"/> answers before the defaults (the service itself, its <see cref="AvatarMetadata"/>).</summary>
    public Func<Type, object?, object?>? GetServiceCallback { get; set; }

    /// <summary>Gets the options of every <see cref="StartSessionAsync"/> call, in order (null where none were given).</summary>
    public IReadOnlyList<AvatarSessionOptions?> StartRequests
    {
        get
        {
            lock (_lock)
            {
                return [.. _startRequests];
            }
        }
    }

    /// <summary>Gets the sessions started, in order.</summary>
    public IReadOnlyList<IAvatarSession> StartedSessions
    {
        get
        {
            lock (_lock)
            {
                return [.. _started];
            }
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<AvatarInfo>> ListAvatarsAsync(CancellationToken cancellationToken = default) =>
        ListAvatarsAsyncCallback?.Invoke(cancellationToken) ??
        Task.FromResult<IReadOnlyList<AvatarInfo>>([new AvatarInfo("test-avatar", "Test avatar") { IsPublic = true }]);

    /// <inheritdoc />
    public async Task<IAvatarSession> StartSessionAsync(AvatarSessionOptions? options = null, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _startRequests.Add(options?.Clone());
        }

        cancellationToken.ThrowIfCancellationRequested();
        var session = StartSessionAsyncCallback is { } callback
            ? await callback(options, cancellationToken).ConfigureAwait(false)
            : _session ?? new TestAvatarSession();
        lock (_lock)
        {
            _started.Add(session);
        }

        return session;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<AvatarSessionInfo>> ListActiveSessionsAsync(CancellationToken cancellationToken = default) =>
        ListActiveSessionsAsyncCallback?.Invoke(cancellationToken) ??
        Task.FromResult<IReadOnlyList<AvatarSessionInfo>>([.. OpenSessions().Select(s => new AvatarSessionInfo(s.SessionId))]);

    /// <inheritdoc />
    public async Task<int> CloseAllSessionsAsync(CancellationToken cancellationToken = default)
    {
        if (CloseAllSessionsAsyncCallback is { } callback)
        {
            return await callback(cancellationToken).ConfigureAwait(false);
        }

        var open = OpenSessions();
        foreach (var session in open)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await session.DisposeAsync().ConfigureAwait(false);
        }

        return open.Count;
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (GetServiceCallback?.Invoke(serviceType, serviceKey) is { } service)
        {
            return service;
        }

        return serviceKey is not null ? null
            : serviceType == typeof(AvatarMetadata) ? new AvatarMetadata("test", avatarId: "test-avatar")
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    private List<IAvatarSession> OpenSessions()
    {
        lock (_lock)
        {
            return [.. _started.Distinct().Where(s => s.State != AvatarSessionState.Closed)];
        }
    }
}
