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

    /// <summary>Asks for a service the implementation provides (its options, its API client…), as in Microsoft.Extensions.AI.</summary>
    /// <param name="serviceType">The type of the service.</param>
    /// <param name="serviceKey">An optional key.</param>
    /// <returns>The service, or <see langword="null"/>.</returns>
    object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType?.IsInstanceOfType(this) == true ? this : null;
}

/// <summary>
/// A live avatar session. Speaking calls queue text and return once it is accepted; what the
/// avatar actually says shows in <see cref="SpeakingStarted"/> and <see cref="SpeakingEnded"/>.
/// <see cref="IAsyncDisposable.DisposeAsync"/> always stops the remote session.
/// </summary>
public interface IAvatarSession : IAsyncDisposable
{
    /// <summary>Gets the provider's session id.</summary>
    string SessionId { get; }

    /// <summary>Gets the session's state.</summary>
    AvatarSessionState State { get; }

    /// <summary>Gets the room that carries the avatar's video and audio, or <see langword="null"/> when not joined.</summary>
    IRealtimeRoom? Room { get; }

    /// <summary>Gets the identity of the avatar's participant in <see cref="Room"/>.</summary>
    string AvatarIdentity { get; }

    /// <summary>Raised when <see cref="State"/> changes.</summary>
    event EventHandler<AvatarSessionStateChangedEventArgs>? StateChanged;

    /// <summary>Raised when the avatar starts speaking an utterance.</summary>
    event EventHandler<AvatarSpeechEventArgs>? SpeakingStarted;

    /// <summary>Raised when the avatar finishes, or is interrupted in, an utterance.</summary>
    event EventHandler<AvatarSpeechEventArgs>? SpeakingEnded;

    /// <summary>Queues text for the avatar to say.</summary>
    /// <param name="text">The text.</param>
    /// <param name="cancellationToken">Cancels queueing.</param>
    /// <returns>A task that completes when the text was accepted.</returns>
    Task SpeakAsync(string text, CancellationToken cancellationToken = default);

    /// <summary>Speaks text that is still being written, starting with the first sentence as soon as it is complete.</summary>
    /// <param name="textChunks">The text chunks, e.g. streamed LLM tokens.</param>
    /// <param name="cancellationToken">Stops consuming the chunks.</param>
    /// <returns>A task that completes when all text was accepted.</returns>
    Task SpeakAsync(IAsyncEnumerable<string> textChunks, CancellationToken cancellationToken = default);

    /// <summary>Stops what the avatar is saying and drops what is queued.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the interrupt was sent.</returns>
    Task InterruptAsync(CancellationToken cancellationToken = default);
}

/// <summary>The life cycle of an <see cref="IAvatarSession"/>.</summary>
public enum AvatarSessionState
{
    /// <summary>The remote session is being created and joined.</summary>
    Starting,

    /// <summary>Started and idle.</summary>
    Ready,

    /// <summary>The avatar is speaking.</summary>
    Speaking,

    /// <summary>The avatar finished speaking and is listening.</summary>
    Listening,

    /// <summary>The remote session is being stopped.</summary>
    Closing,

    /// <summary>Stopped; no further calls are accepted.</summary>
    Closed,
}

/// <summary>Video quality an avatar session renders at.</summary>
public enum AvatarQuality
{
    /// <summary>Low resolution, lowest cost.</summary>
    Low,

    /// <summary>Medium resolution.</summary>
    Medium,

    /// <summary>High resolution (e.g. 1280x720).</summary>
    High,
}

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
}

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

/// <summary>Arguments of the avatar's speaking events.</summary>
/// <param name="utteranceId">The id of the utterance (provider task or event id).</param>
/// <param name="text">The text of the utterance, when known.</param>
/// <param name="timestamp">When it happened.</param>
public sealed class AvatarSpeechEventArgs(string utteranceId, string? text, DateTimeOffset timestamp) : EventArgs
{
    /// <summary>Gets the id of the utterance.</summary>
    public string UtteranceId { get; } = utteranceId;

    /// <summary>Gets the text of the utterance, when known.</summary>
    public string? Text { get; } = text;

    /// <summary>Gets when it happened.</summary>
    public DateTimeOffset Timestamp { get; } = timestamp;

    /// <summary>Gets a value indicating whether the utterance was cut short by an interrupt (only on <see cref="IAvatarSession.SpeakingEnded"/>).</summary>
    public bool Interrupted { get; init; }
}
