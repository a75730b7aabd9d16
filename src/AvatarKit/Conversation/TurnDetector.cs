using System.Text;
using Microsoft.Extensions.AI;

namespace AvatarKit;

/// <summary>
/// Turns a stream of speech-to-text updates into user turns, following <see cref="SpeechTurnSignals"/>:
/// explicit end-of-turn signals end a turn at once; otherwise a turn ends a silence timeout after
/// the last final segment. Thread-safe; callbacks run outside its lock.
/// </summary>
internal sealed class TurnDetector : IDisposable
{
    private readonly TimeSpan _silenceTimeout;
    private readonly TimeProvider _time;
    private readonly TurnDetectorCallbacks _callbacks;
    private readonly Lock _lock = new();
    private readonly StringBuilder _finals = new();
    private readonly ITimer _timer;
    private string? _partial;
    private bool _inSpeech;
    private long _endOfSpeech;
    private int _generation;
    private int _timerGeneration;

    public TurnDetector(TimeSpan silenceTimeout, TimeProvider time, TurnDetectorCallbacks callbacks)
    {
        _silenceTimeout = silenceTimeout;
        _time = time;
        _callbacks = callbacks;
        _timer = time.CreateTimer(static state => ((TurnDetector)state!).OnSilence(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Gets a value indicating whether the user is speaking (an utterance started and has not ended as a turn).</summary>
    public bool InSpeech
    {
        get
        {
            lock (_lock)
            {
                return _inSpeech;
            }
        }
    }

    /// <summary>Processes one update.</summary>
    /// <param name="update">The update.</param>
    /// <param name="endOfSpeech">The timestamp (<see cref="TimeProvider.GetTimestamp"/>) at which the update's audio ended, when known.</param>
    public void Process(SpeechToTextResponseUpdate update, long? endOfSpeech = null)
    {
        ArgumentNullException.ThrowIfNull(update);
        var now = _time.GetTimestamp();
        var speechStarted = false;
        string? transcript = null;
        var isFinal = false;
        DetectedTurn? turn = null;

        lock (_lock)
        {
            var text = update.Text?.Trim() ?? string.Empty;
            if (SpeechTurnSignals.IsSpeechStarted(update))
            {
                speechStarted = StartSpeech();
                StopTimer();
            }
            else if (update.Kind == SpeechToTextResponseUpdateKind.TextUpdating)
            {
                if (text.Length > 0)
                {
                    speechStarted = StartSpeech();
                    StopTimer();
                    _partial = text;
                    _endOfSpeech = endOfSpeech ?? now;
                    transcript = _finals.Length == 0 ? text : $"{_finals} {text}";
                }
            }
            else if (update.Kind == SpeechToTextResponseUpdateKind.TextUpdated)
            {
                if (text.Length > 0)
                {
                    speechStarted = StartSpeech();
                    if (_finals.Length > 0)
                    {
                        _finals.Append(' ');
                    }

                    _finals.Append(text);
                    _partial = null;
                    _endOfSpeech = endOfSpeech ?? now;
                    transcript = text;
                    isFinal = true;
                }

                if (SpeechTurnSignals.IsSpeechFinal(update))
                {
                    turn = Commit(now);
                }
                else if (text.Length > 0)
                {
                    ArmTimer();
                }
            }
            else if (SpeechTurnSignals.IsUtteranceEnd(update))
            {
                turn = Commit(now);
            }
        }

        if (speechStarted)
        {
            _callbacks.SpeechStarted(now);
        }

        if (transcript is not null)
        {
            _callbacks.Transcript(transcript, isFinal);
        }

        if (turn is not null)
        {
            _callbacks.Turn(turn);
        }
    }

    /// <summary>Ends the current turn now, with whatever text it has (e.g. when the audio stream ended).</summary>
    public void Flush()
    {
        DetectedTurn? turn;
        lock (_lock)
        {
            turn = Commit(_time.GetTimestamp());
        }

        if (turn is not null)
        {
            _callbacks.Turn(turn);
        }
    }

    public void Dispose() => _timer.Dispose();

    private bool StartSpeech()
    {
        if (_inSpeech)
        {
            return false;
        }

        _inSpeech = true;
        return true;
    }

    private void ArmTimer()
    {
        _timerGeneration = ++_generation;
        _timer.Change(_silenceTimeout, Timeout.InfiniteTimeSpan);
    }

    private void StopTimer()
    {
        _generation++;
        _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    private void OnSilence()
    {
        DetectedTurn? turn = null;
        lock (_lock)
        {
            if (_timerGeneration == _generation)
            {
                turn = Commit(_time.GetTimestamp());
            }
        }

        if (turn is not null)
        {
            _callbacks.Turn(turn);
        }
    }

    private DetectedTurn? Commit(long now)
    {
        StopTimer();
        var text = _finals.Length > 0 ? _finals.ToString() : _partial;
        var endOfSpeech = _endOfSpeech;
        _finals.Clear();
        _partial = null;
        _inSpeech = false;
        return string.IsNullOrWhiteSpace(text) ? null : new DetectedTurn(text.Trim(), endOfSpeech == 0 ? now : endOfSpeech, now);
    }
}

/// <summary>A user turn the detector committed.</summary>
/// <param name="Text">What the user said.</param>
/// <param name="EndOfSpeech">When the user's speech ended (a <see cref="TimeProvider.GetTimestamp"/> value).</param>
/// <param name="Committed">When the turn was committed.</param>
internal sealed record DetectedTurn(string Text, long EndOfSpeech, long Committed);

/// <summary>What a <see cref="TurnDetector"/> reports.</summary>
/// <param name="SpeechStarted">The user started speaking, with the timestamp.</param>
/// <param name="Transcript">Transcript text and whether it is final.</param>
/// <param name="Turn">A committed turn.</param>
internal sealed record TurnDetectorCallbacks(Action<long> SpeechStarted, Action<string, bool> Transcript, Action<DetectedTurn> Turn);
