namespace AvatarKit;

/// <summary>What the pipeline knows about the turn being answered; shared by the answer, speaker and avatar-event paths.</summary>
internal sealed class ActiveTurn(int id, PendingTurn pending, CancellationTokenSource cancellation, long started)
{
    private readonly Lock _lock = new();
    private readonly List<string> _sent = [];
    private int _started;
    private int _ended;
    private bool _closed;

    public int Id { get; } = id;

    public PendingTurn Pending { get; } = pending;

    public CancellationTokenSource Cancellation { get; } = cancellation;

    public long Started { get; } = started;

    /// <summary>Gets or sets the turn's span context, so work started elsewhere (a barge-in) can nest under it.</summary>
    public System.Diagnostics.ActivityContext TraceContext { get; set; }

    public SemaphoreSlim SpeechSignal { get; } = new(0);

    public long LlmRequest { get; set; }

    public long FirstToken { get; set; }

    public long FirstSentenceReady { get; set; }

    public long FirstSpeakCall { get; set; }

    public long FirstSentenceAccepted { get; set; }

    public long AvatarSpeaking { get; private set; }

    public long AnswerDone { get; set; }

    public long LastSpeechEvent { get; set; }

    public InterruptReason? Interrupt { get; private set; }

    public TimeSpan? InterruptLatency { get; set; }

    public bool ClipStarted { get; set; }

    public int SentCount
    {
        get
        {
            lock (_lock)
            {
                return _sent.Count;
            }
        }
    }

    public int EndedCount
    {
        get
        {
            lock (_lock)
            {
                return _ended;
            }
        }
    }

    /// <summary>Gets what the avatar said of the answer: every sentence it started speaking.</summary>
    public string SpokenText
    {
        get
        {
            lock (_lock)
            {
                return string.Join(' ', _sent.Take(_started));
            }
        }
    }

    public int AddSentence(string sentence)
    {
        lock (_lock)
        {
            _sent.Add(sentence);
            return _sent.Count - 1;
        }
    }

    public bool TryInterrupt(InterruptReason reason)
    {
        lock (_lock)
        {
            if (_closed || Interrupt is not null)
            {
                return false;
            }

            Interrupt = reason;
            return true;
        }
    }

    /// <summary>Counts a speaking start; matched by text when the provider gives it, else in order.</summary>
    /// <returns>Whether this was the turn's first start.</returns>
    public bool OnSpeakingStarted(string? text, long timestamp)
    {
        bool first;
        lock (_lock)
        {
            if (_closed || Interrupt is not null)
            {
                return false;
            }

            first = AvatarSpeaking == 0;
            if (first)
            {
                AvatarSpeaking = timestamp;
            }

            var match = text is null ? -1 : _sent.FindIndex(_started, s => string.Equals(s.Trim(), text.Trim(), StringComparison.Ordinal));
            _started = match >= 0 ? match + 1 : Math.Min(_started + 1, _sent.Count);
            LastSpeechEvent = timestamp;
        }

        SpeechSignal.Release();
        return first;
    }

    public void OnSpeakingEnded(long timestamp)
    {
        lock (_lock)
        {
            // An end without a start in this turn belongs to an earlier (interrupted) answer.
            if (_closed || _ended >= _started)
            {
                return;
            }

            _ended++;
            LastSpeechEvent = timestamp;
        }

        SpeechSignal.Release();
    }

    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
        }
    }
}

/// <summary>A user turn waiting to be answered.</summary>
/// <param name="Text">What the user said or typed.</param>
/// <param name="Source">Voice or text.</param>
/// <param name="Submitted">When the turn was committed (a <see cref="TimeProvider.GetTimestamp"/> value).</param>
/// <param name="EndOfSpeech">When the user's speech ended, for voice turns.</param>
internal sealed record PendingTurn(string Text, ConversationInputSource Source, long Submitted, long? EndOfSpeech)
{
    public TaskCompletionSource<ConversationTurnResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
