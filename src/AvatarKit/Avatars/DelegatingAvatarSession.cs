namespace AvatarKit;

/// <summary>
/// An <see cref="IAvatarSession"/> that passes every call to an inner session and re-raises its
/// events with itself as the sender: the base of session middleware (logging, text rewriting,
/// metrics…). Override what the middleware changes; the rest forwards. Disposing it disposes the
/// inner session, which stops the remote session.
/// </summary>
public class DelegatingAvatarSession : IAvatarSession
{
    /// <summary>Initializes a new instance wrapping <paramref name="innerSession"/>.</summary>
    /// <param name="innerSession">The session calls are passed to.</param>
    protected DelegatingAvatarSession(IAvatarSession innerSession)
    {
        InnerSession = Throw.IfNull(innerSession);
        InnerSession.StateChanged += OnInnerStateChanged;
        InnerSession.SpeakingStarted += OnInnerSpeakingStarted;
        InnerSession.SpeakingEnded += OnInnerSpeakingEnded;
    }

    /// <inheritdoc />
    public event EventHandler<AvatarSessionStateChangedEventArgs>? StateChanged;

    /// <inheritdoc />
    public event EventHandler<AvatarSpeechEventArgs>? SpeakingStarted;

    /// <inheritdoc />
    public event EventHandler<AvatarSpeechEventArgs>? SpeakingEnded;

    /// <inheritdoc />
    public virtual string SessionId => InnerSession.SessionId;

    /// <inheritdoc />
    public virtual AvatarSessionState State => InnerSession.State;

    /// <inheritdoc />
    public virtual IRealtimeRoom? Room => InnerSession.Room;

    /// <inheritdoc />
    public virtual string AvatarIdentity => InnerSession.AvatarIdentity;

    /// <summary>Gets the session calls are passed to.</summary>
    protected IAvatarSession InnerSession { get; }

    /// <inheritdoc />
    public virtual Task SpeakAsync(string text, CancellationToken cancellationToken = default) =>
        InnerSession.SpeakAsync(text, cancellationToken);

    /// <inheritdoc />
    public virtual Task SpeakAsync(IAsyncEnumerable<string> textChunks, CancellationToken cancellationToken = default) =>
        InnerSession.SpeakAsync(textChunks, cancellationToken);

    /// <inheritdoc />
    public virtual Task InterruptAsync(CancellationToken cancellationToken = default) =>
        InnerSession.InterruptAsync(cancellationToken);

    /// <summary>Returns this instance when it is of <paramref name="serviceType"/>, else asks the inner session.</summary>
    /// <param name="serviceType">The type of the service.</param>
    /// <param name="serviceKey">An optional key.</param>
    /// <returns>The service, or <see langword="null"/>.</returns>
    public virtual object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is null && serviceType.IsInstanceOfType(this) ? this : InnerSession.GetService(serviceType, serviceKey);
    }

    /// <summary>Stops the remote session by disposing the inner session.</summary>
    /// <returns>A task that completes when the session is stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        await DisposeAsyncCore().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the inner session and stops forwarding its events; override to release the middleware's own resources too.</summary>
    /// <returns>A task that completes when done.</returns>
    protected virtual async ValueTask DisposeAsyncCore()
    {
        try
        {
            await InnerSession.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            // Unsubscribed after the inner dispose, so the Closed state change still reaches this session's listeners.
            InnerSession.StateChanged -= OnInnerStateChanged;
            InnerSession.SpeakingStarted -= OnInnerSpeakingStarted;
            InnerSession.SpeakingEnded -= OnInnerSpeakingEnded;
        }
    }

    /// <summary>Raises <see cref="StateChanged"/> for a change of the inner session.</summary>
    /// <param name="e">The inner session's event.</param>
    protected virtual void OnStateChanged(AvatarSessionStateChangedEventArgs e) => StateChanged?.Invoke(this, e);

    /// <summary>Raises <see cref="SpeakingStarted"/> for the inner session's event.</summary>
    /// <param name="e">The inner session's event.</param>
    protected virtual void OnSpeakingStarted(AvatarSpeechEventArgs e) => SpeakingStarted?.Invoke(this, e);

    /// <summary>Raises <see cref="SpeakingEnded"/> for the inner session's event.</summary>
    /// <param name="e">The inner session's event.</param>
    protected virtual void OnSpeakingEnded(AvatarSpeechEventArgs e) => SpeakingEnded?.Invoke(this, e);

    private void OnInnerStateChanged(object? sender, AvatarSessionStateChangedEventArgs e) => OnStateChanged(e);

    private void OnInnerSpeakingStarted(object? sender, AvatarSpeechEventArgs e) => OnSpeakingStarted(e);

    private void OnInnerSpeakingEnded(object? sender, AvatarSpeechEventArgs e) => OnSpeakingEnded(e);
}
