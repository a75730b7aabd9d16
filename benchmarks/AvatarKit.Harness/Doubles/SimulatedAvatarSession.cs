using System.Diagnostics;
using System.Threading.Channels;

namespace AvatarKit.Harness.Doubles;

/// <summary>
/// An avatar session that speaks like a remote avatar would: texts queue up, the first one after
/// silence starts <see cref="StartDelay"/> after it was accepted (the provider's TTS and video start),
/// each lasts its word count / <see cref="WordsPerSecond"/>, and an interrupt cuts the current one and
/// drops the queue. It reports every speak call, speaking start and interrupt with a
/// <see cref="Stopwatch"/> timestamp so the harness measures from outside the pipeline.
/// </summary>
internal sealed class SimulatedAvatarSession : IAvatarSession
{
    private static int s_sessions;

    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>();
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Lock _lock = new();
    private readonly Task _speaker;
    private CancellationTokenSource _utterance = new();
    private int _state = (int)AvatarSessionState.Ready;
    private int _generation;

    public SimulatedAvatarSession()
    {
        SessionId = $"simulated-{Interlocked.Increment(ref s_sessions)}";
        _speaker = Task.Run(SpeakLoopAsync);
    }

    public event EventHandler<AvatarSessionStateChangedEventArgs>? StateChanged;

    public event EventHandler<AvatarSpeechEventArgs>? SpeakingStarted;

    public event EventHandler<AvatarSpeechEventArgs>? SpeakingEnded;

    /// <summary>Raised with the <see cref="Stopwatch"/> timestamp of each <see cref="SpeakAsync(string, CancellationToken)"/> call, before it is queued.</summary>
    public event Action<long>? SpeakCalled;

    /// <summary>Raised with the <see cref="Stopwatch"/> timestamp of each speaking start.</summary>
    public event Action<long>? Started;

    /// <summary>Raised with the <see cref="Stopwatch"/> timestamp of each <see cref="InterruptAsync"/> call.</summary>
    public event Action<long>? InterruptCalled;

    public string SessionId { get; }

    public AvatarSessionState State => (AvatarSessionState)Volatile.Read(ref _state);

    public IRealtimeRoom? Room { get; init; }

    public string AvatarIdentity => "simulated-avatar";

    /// <summary>Gets the time from accepting the first text after silence to speaking it.</summary>
    public TimeSpan StartDelay { get; init; }

    /// <summary>Gets the speaking speed; 0 or less makes every utterance end at once.</summary>
    public double WordsPerSecond { get; init; }

    /// <summary>Gets how many texts were accepted.</summary>
    public int SpeakCalls => Volatile.Read(ref _speakCalls);

    private int _speakCalls;

    public Task SpeakAsync(string text, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        SpeakCalled?.Invoke(Stopwatch.GetTimestamp());
        Interlocked.Increment(ref _speakCalls);
        if (State == AvatarSessionState.Closed)
        {
            return Task.FromException(new AvatarApiException("The session is closed."));
        }

        _queue.Writer.TryWrite(text);
        return Task.CompletedTask;
    }

    public async Task SpeakAsync(IAsyncEnumerable<string> textChunks, CancellationToken cancellationToken = default)
    {
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

    public async Task InterruptAsync(CancellationToken cancellationToken = default)
    {
        InterruptCalled?.Invoke(Stopwatch.GetTimestamp());
        CancellationTokenSource current;
        lock (_lock)
        {
            _generation++;
            while (_queue.Reader.TryRead(out _))
            {
            }

            current = _utterance;
        }

        await current.CancelAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        SetState(AvatarSessionState.Closed);
        _queue.Writer.TryComplete();
        await _lifetime.CancelAsync().ConfigureAwait(false);
        await _speaker.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _lifetime.Dispose();
        _utterance.Dispose();
    }

    private async Task SpeakLoopAsync()
    {
        var token = _lifetime.Token;
        try
        {
            while (await _queue.Reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                var idle = State != AvatarSessionState.Speaking;
                if (!_queue.Reader.TryRead(out var text))
                {
                    continue;
                }

                CancellationTokenSource utterance;
                int generation;
                lock (_lock)
                {
                    if (_utterance.IsCancellationRequested)
                    {
                        _utterance.Dispose();
                        _utterance = new CancellationTokenSource();
                    }

                    utterance = _utterance;
                    generation = _generation;
                }

                using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, utterance.Token);
                var interrupted = false;
                try
                {
                    if (idle && StartDelay > TimeSpan.Zero)
                    {
                        await Task.Delay(StartDelay, linked.Token).ConfigureAwait(false);
                    }

                    if (generation != Volatile.Read(ref _generation))
                    {
                        continue;
                    }

                    SetState(AvatarSessionState.Speaking);
                    Started?.Invoke(Stopwatch.GetTimestamp());
                    SpeakingStarted?.Invoke(this, new AvatarSpeechEventArgs(SessionId, text, DateTimeOffset.UtcNow));
                    if (WordsPerSecond > 0)
                    {
                        await Task.Delay(TimeSpan.FromSeconds(AnswerText.Words(text).Length / WordsPerSecond), linked.Token).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (!token.IsCancellationRequested)
                {
                    interrupted = true;
                    if (State != AvatarSessionState.Speaking)
                    {
                        continue;
                    }
                }

                if (_queue.Reader.Count == 0)
                {
                    SetState(AvatarSessionState.Listening);
                }

                SpeakingEnded?.Invoke(this, new AvatarSpeechEventArgs(SessionId, text, DateTimeOffset.UtcNow) { Interrupted = interrupted });
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
    }

    private void SetState(AvatarSessionState state)
    {
        var previous = (AvatarSessionState)Interlocked.Exchange(ref _state, (int)state);
        if (previous != state)
        {
            StateChanged?.Invoke(this, new AvatarSessionStateChangedEventArgs(previous, state));
        }
    }
}
