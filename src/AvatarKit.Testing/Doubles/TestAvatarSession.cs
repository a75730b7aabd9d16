using System.Threading.Channels;

namespace AvatarKit.Testing;

/// <summary>
/// An <see cref="IAvatarSession"/> for tests, configured with delegates (as Microsoft.Extensions.AI's
/// test clients are). By default it speaks each text at once (speaking started, then ended),
/// an interrupt ends what it is saying, and disposing closes it. Set the callbacks to script other
/// behaviour, and use <see cref="RaiseSpeakingStarted"/>, <see cref="RaiseSpeakingEnded"/> and
/// <see cref="ChangeState"/> to play the provider's events.
/// </summary>
/// <remarks>Thread-safe: callbacks may raise events from any thread.</remarks>
public sealed class TestAvatarSession : IAvatarSession
{
    private readonly Lock _lock = new();
    private readonly List<string> _spokenTexts = [];
    private readonly Channel<string> _spoken = Channel.CreateUnbounded<string>();
    private int _state = (int)AvatarSessionState.Ready;
    private int _interruptCount;
    private int _disposeCount;

    /// <inheritdoc />
    public event EventHandler<AvatarSessionStateChangedEventArgs>? StateChanged;

    /// <inheritdoc />
    public event EventHandler<AvatarSpeechEventArgs>? SpeakingStarted;

    /// <inheritdoc />
    public event EventHandler<AvatarSpeechEventArgs>? SpeakingEnded;

    /// <inheritdoc />
    public string SessionId { get; init; } = "test-session";

    /// <inheritdoc />
    public AvatarSessionState State => (AvatarSessionState)Volatile.Read(ref _state);

    /// <inheritdoc />
    public IRealtimeRoom? Room { get; init; }

    /// <inheritdoc />
    public string AvatarIdentity { get; init; } = "avatar";

    /// <summary>Gets the clock the speaking events are stamped with; the system clock by default.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>
    /// Gets or sets what <see cref="SpeakAsync(string, CancellationToken)"/> does; when null, the
    /// avatar says the text at once (<see cref="RaiseSpeakingStarted"/> then <see cref="RaiseSpeakingEnded"/>).
    /// A callback that throws refuses the text (it is not recorded in <see cref="SpokenTexts"/>).
    /// </summary>
    public Func<string, CancellationToken, Task>? SpeakAsyncCallback { get; set; }

    /// <summary>
    /// Gets or sets what <see cref="SpeakAsync(IAsyncEnumerable{string}, CancellationToken)"/> does; when
    /// null, the chunks are cut into sentences and each is spoken through <see cref="SpeakAsync(string, CancellationToken)"/>.
    /// </summary>
    public Func<IAsyncEnumerable<string>, CancellationToken, Task>? SpeakStreamAsyncCallback { get; set; }

    /// <summary>Gets or sets what <see cref="InterruptAsync"/> does; when null, an utterance in progress ends as interrupted.</summary>
    public Func<CancellationToken, Task>? InterruptAsyncCallback { get; set; }

    /// <summary>Gets or sets what <see cref="DisposeAsync"/> does besides counting; when null, the session closes.</summary>
    public Func<ValueTask>? DisposeAsyncCallback { get; set; }

    /// <summary>Gets or sets what <see cref="GetService"/> answers before the defaults (the session itself, its <see cref="AvatarMetadata"/>).</summary>
    public Func<Type, object?, object?>? GetServiceCallback { get; set; }

    /// <summary>Gets the texts the session accepted, in order.</summary>
    public IReadOnlyList<string> SpokenTexts
    {
        get
        {
            lock (_lock)
            {
                return [.. _spokenTexts];
            }
        }
    }

    /// <summary>Gets the texts the session accepted, as they are accepted (for tests that wait for one).</summary>
    public ChannelReader<string> SpokenTextReader => _spoken.Reader;

    /// <summary>Gets how many times <see cref="InterruptAsync"/> was called.</summary>
    public int InterruptCount => Volatile.Read(ref _interruptCount);

    /// <summary>Gets how many times <see cref="DisposeAsync"/> was called.</summary>
    public int DisposeCount => Volatile.Read(ref _disposeCount);

    /// <inheritdoc />
    public async Task SpeakAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        cancellationToken.ThrowIfCancellationRequested();
        if (SpeakAsyncCallback is { } callback)
        {
            await callback(text, cancellationToken).ConfigureAwait(false);
            Record(text);
        }
        else
        {
            Record(text);
            RaiseSpeakingStarted(text);
            RaiseSpeakingEnded(text);
        }
    }

    /// <inheritdoc />
    public async Task SpeakAsync(IAsyncEnumerable<string> textChunks, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(textChunks);
        if (SpeakStreamAsyncCallback is { } callback)
        {
            await callback(textChunks, cancellationToken).ConfigureAwait(false);
            return;
        }

        var chunker = new SentenceChunker();
        await foreach (var chunk in textChunks.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            chunker.Append(chunk);
            while (chunker.TryTakeSentence(out var sentence))
            {
                await SpeakAsync(sentence, cancellationToken).ConfigureAwait(false);
            }
        }

        if (chunker.Complete() is { } last)
        {
            await SpeakAsync(last, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public Task InterruptAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _interruptCount);
        if (InterruptAsyncCallback is { } callback)
        {
            return callback(cancellationToken);
        }

        if (State == AvatarSessionState.Speaking)
        {
            RaiseSpeakingEnded(text: null, interrupted: true);
        }

        return Task.CompletedTask;
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

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Interlocked.Increment(ref _disposeCount);
        if (DisposeAsyncCallback is { } callback)
        {
            return callback();
        }

        ChangeState(AvatarSessionState.Closed, "disposed");
        return ValueTask.CompletedTask;
    }

    /// <summary>Plays the provider's "speaking started": the state becomes <see cref="AvatarSessionState.Speaking"/>, then <see cref="SpeakingStarted"/> is raised.</summary>
    /// <param name="text">The utterance's text.</param>
    /// <param name="utteranceId">The utterance's id; a new one when null.</param>
    public void RaiseSpeakingStarted(string? text, string? utteranceId = null)
    {
        ChangeState(AvatarSessionState.Speaking);
        SpeakingStarted?.Invoke(this, new AvatarSpeechEventArgs(utteranceId ?? NewUtteranceId(), text, TimeProvider.GetUtcNow()));
    }

    /// <summary>Plays the provider's "speaking ended": the state becomes <see cref="AvatarSessionState.Listening"/>, then <see cref="SpeakingEnded"/> is raised.</summary>
    /// <param name="text">The utterance's text, when known.</param>
    /// <param name="interrupted">Whether the utterance was cut short.</param>
    /// <param name="utteranceId">The utterance's id; a new one when null.</param>
    public void RaiseSpeakingEnded(string? text, bool interrupted = false, string? utteranceId = null)
    {
        ChangeState(AvatarSessionState.Listening);
        SpeakingEnded?.Invoke(this, new AvatarSpeechEventArgs(utteranceId ?? NewUtteranceId(), text, TimeProvider.GetUtcNow()) { Interrupted = interrupted });
    }

    /// <summary>Sets <see cref="State"/> and raises <see cref="StateChanged"/> when it changed (e.g. <see cref="AvatarSessionState.Closed"/> to play a session the provider ended).</summary>
    /// <param name="state">The new state.</param>
    /// <param name="reason">Why, when known.</param>
    public void ChangeState(AvatarSessionState state, string? reason = null)
    {
        var previous = (AvatarSessionState)Interlocked.Exchange(ref _state, (int)state);
        if (previous != state)
        {
            StateChanged?.Invoke(this, new AvatarSessionStateChangedEventArgs(previous, state, reason));
        }
    }

    private static string NewUtteranceId() => Guid.NewGuid().ToString("N");

    private void Record(string text)
    {
        lock (_lock)
        {
            _spokenTexts.Add(text);
        }

        _spoken.Writer.TryWrite(text);
    }
}
