using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.AI;

namespace AvatarKit.Harness.Doubles;

/// <summary>
/// A streaming speech-to-text client whose results the harness sends (<see cref="Send"/>), like a
/// Deepgram socket would, while it drains the audio the pipeline streams to it. <see cref="Drop"/>
/// fails the current stream as a dropped socket does; the pipeline then opens a new one.
/// </summary>
internal sealed class ScriptedSpeechToText : ISpeechToTextClient
{
    private readonly Lock _lock = new();
    private Channel<SpeechToTextResponseUpdate> _updates = Channel.CreateUnbounded<SpeechToTextResponseUpdate>();
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _streams;
    private long _audioBytes;

    /// <summary>Gets how many streams the pipeline opened.</summary>
    public int Streams => Volatile.Read(ref _streams);

    /// <summary>Gets how many audio bytes the pipeline streamed.</summary>
    public long AudioBytes => Interlocked.Read(ref _audioBytes);

    /// <summary>Gets a task that completes when a stream is open (the next one after a drop).</summary>
    public Task Connected
    {
        get
        {
            lock (_lock)
            {
                return _connected.Task;
            }
        }
    }

    public static SpeechToTextResponseUpdate SpeechStarted() => new() { Kind = SpeechTurnSignals.SpeechStarted };

    public static SpeechToTextResponseUpdate UtteranceEnd() => new() { Kind = SpeechTurnSignals.UtteranceEnd };

    public static SpeechToTextResponseUpdate Partial(string text) => new(text) { Kind = SpeechToTextResponseUpdateKind.TextUpdating };

    public static SpeechToTextResponseUpdate Final(string text, bool speechFinal) => new(text)
    {
        Kind = SpeechToTextResponseUpdateKind.TextUpdated,
        AdditionalProperties = speechFinal ? new() { [SpeechTurnSignals.SpeechFinalProperty] = true } : null,
    };

    /// <summary>Sends a result on the current stream.</summary>
    /// <param name="update">The result.</param>
    public void Send(SpeechToTextResponseUpdate update)
    {
        lock (_lock)
        {
            _updates.Writer.TryWrite(update);
        }
    }

    /// <summary>Fails the current stream (results already sent are delivered first).</summary>
    /// <param name="exception">The failure the stream ends with.</param>
    public void Drop(Exception exception)
    {
        lock (_lock)
        {
            var old = _updates;
            _updates = Channel.CreateUnbounded<SpeechToTextResponseUpdate>();
            _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            old.Writer.TryComplete(exception);
        }
    }

    public Task<SpeechToTextResponse> GetTextAsync(Stream audioSpeechStream, SpeechToTextOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The harness streams.");

    public async IAsyncEnumerable<SpeechToTextResponseUpdate> GetStreamingTextAsync(
        Stream audioSpeechStream, SpeechToTextOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Channel<SpeechToTextResponseUpdate> updates;
        lock (_lock)
        {
            updates = _updates;
            Interlocked.Increment(ref _streams);
            _connected.TrySetResult();
        }

        using var drain = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reader = Task.Run(
            async () =>
            {
                var buffer = new byte[3200];
                int read;
                while ((read = await audioSpeechStream.ReadAsync(buffer, drain.Token).ConfigureAwait(false)) > 0)
                {
                    Interlocked.Add(ref _audioBytes, read);
                }
            },
            CancellationToken.None);
        try
        {
            await foreach (var update in updates.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return update;
            }
        }
        finally
        {
            await drain.CancelAsync().ConfigureAwait(false);
            await reader.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}

/// <summary>Live silence in 20 ms frames, paced in real time like a microphone.</summary>
internal sealed class SilenceAudioInput : IAudioInput
{
    public string Name => "silence";

    public async IAsyncEnumerable<AudioFrame> CaptureAsync(AudioFormat format, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var frameLength = TimeSpan.FromMilliseconds(20);
        var bytes = format.GetByteCount(frameLength);
        using var timer = new PeriodicTimer(frameLength);
        for (var i = 0L; await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false); i++)
        {
            var frame = AudioFrame.Rent(format, bytes, frameLength * i);
            frame.Span.Clear();
            yield return frame;
        }
    }
}
