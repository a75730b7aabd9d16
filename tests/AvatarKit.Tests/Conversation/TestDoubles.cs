using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.AI;

namespace AvatarKit.Tests.Conversation;

/// <summary>A chat client whose streamed answer is produced by a delegate.</summary>
internal sealed class TestChatClient : IChatClient
{
    public Func<IReadOnlyList<ChatMessage>, CancellationToken, IAsyncEnumerable<string>> Answer { get; set; } =
        (_, ct) => Tokens(ct, "Hello. ", "How can I help?");

    public List<List<ChatMessage>> Requests { get; } = [];

    public static async IAsyncEnumerable<string> Tokens([EnumeratorCancellation] CancellationToken cancellationToken, params string[] tokens)
    {
        foreach (var token in tokens)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return token;
        }
    }

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = messages.ToList();
        lock (Requests)
        {
            Requests.Add(list);
        }

        await foreach (var token in Answer(list, cancellationToken).WithCancellation(cancellationToken))
        {
            yield return new ChatResponseUpdate(ChatRole.Assistant, token);
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}

/// <summary>An avatar session that "speaks" each text: raises started at once and ended when <see cref="AutoEnd"/> or when told.</summary>
internal sealed class TestAvatarSession : IAvatarSession
{
    private readonly Channel<string> _spoken = Channel.CreateUnbounded<string>();
    private AvatarSessionState _state = AvatarSessionState.Ready;

    public string SessionId { get; init; } = "test-session";

    public AvatarSessionState State => _state;

    public IRealtimeRoom? Room { get; init; }

    public string AvatarIdentity => "avatar";

    public bool AutoEnd { get; set; } = true;

    /// <summary>
    /// Gets or sets when the avatar starts speaking the n-th text (counted from 0 over the session) given to
    /// <see cref="SpeakAsync(string, CancellationToken)"/>: once the returned task completes. At once when null.
    /// </summary>
    public Func<int, Task>? SpeechStart { get; set; }

    public Func<string, Exception?> SpeakFailure { get; set; } = _ => null;

    public List<string> Spoken { get; } = [];

    public int Interrupts;

    public int Disposals;

    public ChannelReader<string> SpokenReader => _spoken.Reader;

    public event EventHandler<AvatarSessionStateChangedEventArgs>? StateChanged;

    public event EventHandler<AvatarSpeechEventArgs>? SpeakingStarted;

    public event EventHandler<AvatarSpeechEventArgs>? SpeakingEnded;

    public Task SpeakAsync(string text, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (SpeakFailure(text) is { } failure)
        {
            return Task.FromException(failure);
        }

        int index;
        lock (Spoken)
        {
            index = Spoken.Count;
            Spoken.Add(text);
        }

        if (SpeechStart is { } start)
        {
            // Like a hosted avatar: the call returns once queued, speech starts later.
            _spoken.Writer.TryWrite(text);
            _ = start(index).ContinueWith(_ => StartSpeaking(text, announce: false), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
        }
        else
        {
            StartSpeaking(text, announce: true);
        }

        return Task.CompletedTask;
    }

    private void StartSpeaking(string text, bool announce)
    {
        _state = AvatarSessionState.Speaking;
        SpeakingStarted?.Invoke(this, new AvatarSpeechEventArgs(Guid.NewGuid().ToString(), text, DateTimeOffset.UtcNow));
        if (announce)
        {
            _spoken.Writer.TryWrite(text);
        }

        if (AutoEnd)
        {
            EndSpeaking(text);
        }
    }

    public void EndSpeaking(string? text, bool interrupted = false)
    {
        _state = AvatarSessionState.Listening;
        SpeakingEnded?.Invoke(this, new AvatarSpeechEventArgs(Guid.NewGuid().ToString(), text, DateTimeOffset.UtcNow) { Interrupted = interrupted });
    }

    public Task SpeakAsync(IAsyncEnumerable<string> textChunks, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task InterruptAsync(CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Interrupts);
        if (_state == AvatarSessionState.Speaking)
        {
            EndSpeaking(null, interrupted: true);
        }

        return Task.CompletedTask;
    }

    public void Close(string reason)
    {
        var previous = _state;
        _state = AvatarSessionState.Closed;
        StateChanged?.Invoke(this, new AvatarSessionStateChangedEventArgs(previous, AvatarSessionState.Closed, reason));
    }

    public ValueTask DisposeAsync()
    {
        Interlocked.Increment(ref Disposals);
        _state = AvatarSessionState.Closed;
        return ValueTask.CompletedTask;
    }
}

internal sealed class TestAvatarService(TestAvatarSession session) : IAvatarService
{
    public int Starts;

    public Exception? StartFailure { get; set; }

    public AvatarSessionOptions? LastOptions { get; private set; }

    public Task<IReadOnlyList<AvatarInfo>> ListAvatarsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<AvatarInfo>>([new AvatarInfo("test", "Test")]);

    public Task<IAvatarSession> StartSessionAsync(AvatarSessionOptions? options = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref Starts);
        LastOptions = options;
        return StartFailure is { } failure ? Task.FromException<IAvatarSession>(failure) : Task.FromResult<IAvatarSession>(session);
    }

    public Task<IReadOnlyList<AvatarSessionInfo>> ListActiveSessionsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<AvatarSessionInfo>>([]);

    public Task<int> CloseAllSessionsAsync(CancellationToken cancellationToken = default) => Task.FromResult(0);
}

/// <summary>A streaming speech-to-text client that yields the updates a test writes, while draining the audio stream.</summary>
internal sealed class TestSpeechToTextClient : ISpeechToTextClient
{
    private Channel<SpeechToTextResponseUpdate> _updates = Channel.CreateUnbounded<SpeechToTextResponseUpdate>();

    public int Sessions;

    public long BytesRead;

    public Func<int, Exception?> SessionFailure { get; set; } = _ => null;

    public void Send(SpeechToTextResponseUpdate update) => _updates.Writer.TryWrite(update);

    public void Fail(Exception exception)
    {
        var old = _updates;
        _updates = Channel.CreateUnbounded<SpeechToTextResponseUpdate>();
        old.Writer.TryComplete(exception);
    }

    public Task<SpeechToTextResponse> GetTextAsync(Stream audioSpeechStream, SpeechToTextOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public async IAsyncEnumerable<SpeechToTextResponseUpdate> GetStreamingTextAsync(
        Stream audioSpeechStream, SpeechToTextOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var session = Interlocked.Increment(ref Sessions);
        if (SessionFailure(session) is { } failure)
        {
            throw failure;
        }

        using var drain = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reader = Task.Run(
            async () =>
            {
                var buffer = new byte[3200];
                int read;
                while ((read = await audioSpeechStream.ReadAsync(buffer, drain.Token)) > 0)
                {
                    Interlocked.Add(ref BytesRead, read);
                }
            },
            CancellationToken.None);

        try
        {
            await foreach (var update in _updates.Reader.ReadAllAsync(cancellationToken))
            {
                yield return update;
            }
        }
        finally
        {
            await drain.CancelAsync();
            await reader.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }

    public static SpeechToTextResponseUpdate Partial(string text) => new(text) { Kind = SpeechToTextResponseUpdateKind.TextUpdating };

    public static SpeechToTextResponseUpdate Final(string text, bool speechFinal = false) => new(text)
    {
        Kind = SpeechToTextResponseUpdateKind.TextUpdated,
        AdditionalProperties = speechFinal ? new() { [SpeechTurnSignals.SpeechFinalProperty] = true } : null,
    };

    public static SpeechToTextResponseUpdate Signal(SpeechToTextResponseUpdateKind kind) => new() { Kind = kind };
}

/// <summary>Endless silence in 20 ms frames, paced by the consumer.</summary>
internal sealed class TestAudioInput : IAudioInput
{
    public string Name => "test input";

    public async IAsyncEnumerable<AudioFrame> CaptureAsync(AudioFormat format, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var bytes = format.GetByteCount(TimeSpan.FromMilliseconds(20));
        for (var i = 0; ; i++)
        {
            await Task.Delay(20, cancellationToken);
            var frame = AudioFrame.Rent(format, bytes, TimeSpan.FromMilliseconds(20 * i));
            frame.Span.Clear();
            yield return frame;
        }
    }
}

internal sealed class TestRecorder : ISessionRecorder
{
    public TestRecording? Recording { get; private set; }

    public SessionRecordingRequest? Request { get; private set; }

    public Task<ISessionRecording> StartAsync(SessionRecordingRequest request, CancellationToken cancellationToken = default)
    {
        Request = request;
        Recording = new TestRecording($"session_{request.SessionId}.mp4");
        return Task.FromResult<ISessionRecording>(Recording);
    }
}

internal sealed class TestRecording(string path) : ISessionRecording
{
    private readonly List<RecordedClip> _clips = [];
    private string? _clipText;

    public string SessionFilePath { get; } = path;

    public IReadOnlyList<RecordedClip> Clips => _clips;

    public long DroppedVideoFrames => 0;

    public List<(string Speaker, string Text)> Transcript { get; } = [];

    public List<string> Log { get; } = [];

    public bool Completed { get; private set; }

    public event EventHandler<RecordingErrorEventArgs>? Failed;

    public void RaiseFailed(Exception exception) => Failed?.Invoke(this, new RecordingErrorEventArgs(exception, recordingStopped: true));

    public ValueTask WriteUserAudioAsync(AudioFrame frame, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public void BeginClip(string? text = null)
    {
        Log.Add("begin");
        _clipText = text;
    }

    public void EndClip()
    {
        Log.Add("end");
        _clips.Add(new RecordedClip($"voice_task_{_clips.Count}.mp4", TimeSpan.Zero, TimeSpan.FromSeconds(1), _clipText));
    }

    public void AddTranscript(string speaker, string text) => Transcript.Add((speaker, text));

    public Task<SessionRecordingResult> CompleteAsync(CancellationToken cancellationToken = default)
    {
        Completed = true;
        return Task.FromResult(new SessionRecordingResult(SessionFilePath, null, TimeSpan.FromSeconds(5), _clips, 0));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
