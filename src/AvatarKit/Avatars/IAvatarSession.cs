namespace AvatarKit;

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

    /// <summary>
    /// Asks for a service the session provides, as in Microsoft.Extensions.AI: its
    /// <see cref="AvatarMetadata"/>, the session itself, or a provider type (through a
    /// <see cref="DelegatingAvatarSession"/>, the innermost session answers last).
    /// </summary>
    /// <param name="serviceType">The type of the service.</param>
    /// <param name="serviceKey">An optional key.</param>
    /// <returns>The service, or <see langword="null"/>.</returns>
    object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType?.IsInstanceOfType(this) == true ? this : null;
}
