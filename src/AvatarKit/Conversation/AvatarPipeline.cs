using System.Diagnostics;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AvatarKit;

/// <summary>
/// A live conversation with a talking avatar: user turns (spoken through an <see cref="IAudioInput"/>
/// and an <see cref="ISpeechToTextClient"/>, or sent as text) are answered by an
/// <see cref="IChatClient"/>, and each sentence of the streamed answer is spoken by the avatar as
/// soon as it is complete. User speech while the avatar answers interrupts it (barge-in).
/// </summary>
/// <remarks>
/// <para>
/// Create one with <see cref="CreateBuilder"/> or, in a hosted app, from DI
/// (<c>services.AddAvatarKit().AddPipeline()</c>, then <see cref="IAvatarPipelineFactory"/>). Call <see cref="StartAsync"/>, read
/// <see cref="ReadEventsAsync"/>, send turns with <see cref="SendTextAsync"/> (voice turns arrive by
/// themselves), and <see cref="StopAsync"/> or dispose it to close the avatar session and finalize
/// the recording. Errors of a stage become <see cref="ConversationErrorEvent"/>s; the conversation
/// goes on unless the avatar session itself is gone.
/// </para>
/// <para>All members are thread-safe. Turns are answered one at a time, in order.</para>
/// </remarks>
public sealed class AvatarPipeline : IAsyncDisposable
{
    private const int NotStarted = 0;
    private const int Starting = 1;
    private const int Running = 2;
    private const int Stopping = 3;
    private const int Stopped = 4;

    private readonly IAvatarService? _avatarService;
    private readonly IAvatarSession? _providedSession;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<PendingTurn> _turns = Channel.CreateBounded<PendingTurn>(new BoundedChannelOptions(16) { SingleReader = true });
    private readonly CancellationTokenSource _lifetime = new();
    private readonly ConversationEventHub _events = new();
    private readonly TaskCompletionSource<SessionRecordingResult?> _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _recordingLock = new();
    private int _state;
    private int _turnCounter;
    private long _captureStart;
    private volatile bool _avatarSpeaking;
    private volatile bool _voiceActive;
    private IAvatarSession? _session;
    private ISessionRecording? _recording;
    private ActiveTurn? _activeTurn;
    private TurnDetector? _detector;
    private Task _turnLoop = Task.CompletedTask;
    private Task _voiceLoop = Task.CompletedTask;

    internal AvatarPipeline(
        AvatarPipelineOptions options,
        IChatClient chatClient,
        IAvatarService? avatarService,
        IAvatarSession? avatarSession,
        ISpeechToTextClient? speechToText,
        IAudioInput? audioInput,
        ISessionRecorder? recorder,
        ILoggerFactory? loggerFactory,
        TimeProvider? timeProvider)
    {
        Options = options;
        ChatClient = chatClient;
        _avatarService = avatarService;
        _providedSession = avatarSession;
        SpeechToTextClient = speechToText;
        AudioInput = audioInput;
        Recorder = recorder;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<AvatarPipeline>();
        _time = timeProvider ?? TimeProvider.System;
        History = new ConversationHistory(options.SystemPrompt, options.MaxHistoryMessages);
    }

    /// <summary>Creates a builder: <c>AvatarPipeline.CreateBuilder().UseChatClient(…).UseAvatar(…).Build()</c>.</summary>
    /// <returns>A new builder.</returns>
    public static AvatarPipelineBuilder CreateBuilder() => new();

    /// <summary>Gets the pipeline's settings (validated; do not change them after building).</summary>
    public AvatarPipelineOptions Options { get; }

    /// <summary>Gets the conversation history sent to the chat client.</summary>
    public ConversationHistory History { get; }

    /// <summary>Gets the avatar session, once started.</summary>
    public IAvatarSession? Session => _session;

    /// <summary>Gets the recording in progress, when recording.</summary>
    public ISessionRecording? Recording => _recording;

    /// <summary>Gets a value indicating whether voice input is running.</summary>
    public bool IsVoiceInputActive => _voiceActive;

    /// <summary>Gets the latest finished turn.</summary>
    public ConversationTurnResult? LastTurn { get; private set; }

    /// <summary>Gets what the conversation is doing now.</summary>
    public ConversationState State => Volatile.Read(ref _state) switch
    {
        NotStarted or Starting => ConversationState.Starting,
        Stopping or Stopped => ConversationState.Stopped,
        _ when _avatarSpeaking => ConversationState.AvatarSpeaking,
        _ when Volatile.Read(ref _activeTurn) is not null => ConversationState.Thinking,
        _ when _detector?.InSpeech == true => ConversationState.UserSpeaking,
        _ => ConversationState.Listening,
    };

    internal IChatClient ChatClient { get; }

    internal ISpeechToTextClient? SpeechToTextClient { get; }

    internal IAudioInput? AudioInput { get; }

    internal ISessionRecorder? Recorder { get; }

    internal IAvatarService? AvatarService => _avatarService;

    /// <summary>
    /// Reads the conversation's events from now on, until it stops. Each call gets its own stream;
    /// subscribe before <see cref="StartAsync"/> to see every event.
    /// </summary>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <returns>The events, in order.</returns>
    public IAsyncEnumerable<ConversationEvent> ReadEventsAsync(CancellationToken cancellationToken = default) => _events.Subscribe(cancellationToken);

    /// <summary>Starts the avatar session (unless one was given), the recording and voice input.</summary>
    /// <param name="cancellationToken">Cancels starting; a session already started is stopped.</param>
    /// <returns>A task that completes when the conversation is ready for turns.</returns>
    /// <exception cref="InvalidOperationException">The pipeline was already started.</exception>
    /// <exception cref="AvatarApiException">The avatar session could not be started.</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, Starting, NotStarted) != NotStarted)
        {
            throw new InvalidOperationException("The pipeline was already started; create a new one for a new conversation.");
        }

        try
        {
            _session = _providedSession ?? await _avatarService!.StartSessionAsync(Options.Session, cancellationToken);
            _session.SpeakingStarted += OnSpeakingStarted;
            _session.SpeakingEnded += OnSpeakingEnded;
            _session.StateChanged += OnSessionStateChanged;
            await StartRecordingAsync(_session, cancellationToken);
        }
        catch (Exception ex)
        {
            var reason = ex is OperationCanceledException ? "Starting was cancelled." : $"The avatar session could not start: {ex.Message}";
            if (ex is not OperationCanceledException)
            {
                ReportError(ConversationStage.Avatar, reason, ex, recoverable: false);
            }

            Volatile.Write(ref _state, Running);
            await StopAsync(reason, CancellationToken.None);
            throw;
        }

        Volatile.Write(ref _state, Running);
        _turnLoop = Task.Run(RunTurnsAsync, CancellationToken.None);
        if (Options.VoiceInput && SpeechToTextClient is not null && AudioInput is not null)
        {
            _voiceActive = true;
            _voiceLoop = Task.Run(() => RunVoiceAsync(SpeechToTextClient, AudioInput, _lifetime.Token), CancellationToken.None);
        }

        PipelineLog.Started(_logger, _session.SessionId);
        Publish(new ConversationStartedEvent(_session.SessionId, _recording?.SessionFilePath));
    }

    /// <summary>Sends a user turn as text and waits until it was answered, interrupted or failed.</summary>
    /// <param name="text">What the user says.</param>
    /// <param name="cancellationToken">Stops waiting (the turn itself goes on; use <see cref="InterruptAsync"/> to stop it).</param>
    /// <returns>The turn's outcome.</returns>
    /// <exception cref="InvalidOperationException">The pipeline is not running.</exception>
    public async Task<ConversationTurnResult> SendTextAsync(string text, CancellationToken cancellationToken = default)
    {
        Throw.IfNullOrWhiteSpace(text);
        if (Volatile.Read(ref _state) != Running)
        {
            throw new InvalidOperationException(_state < Running ? "Call StartAsync before sending turns." : "The conversation has stopped.");
        }

        var turn = new PendingTurn(text.Trim(), ConversationInputSource.Text, _time.GetTimestamp(), EndOfSpeech: null);
        try
        {
            await _turns.Writer.WriteAsync(turn, cancellationToken);
        }
        catch (ChannelClosedException ex)
        {
            throw new InvalidOperationException("The conversation has stopped.", ex);
        }

        return await turn.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Interrupts the current answer: the avatar stops, the rest of the answer is dropped and the history keeps only what was said.</summary>
    /// <param name="cancellationToken">Cancels sending the interrupt.</param>
    /// <returns>A task that completes when the interrupt was sent.</returns>
    public Task InterruptAsync(CancellationToken cancellationToken = default) =>
        InterruptCoreAsync(InterruptReason.Command, _time.GetTimestamp(), cancellationToken);

    /// <summary>
    /// Stops the conversation: cancels the current answer and voice input, finalizes the recording and
    /// stops the avatar session (unless it was given by the caller). Safe to call more than once.
    /// </summary>
    /// <param name="reason">Why, for the <see cref="ConversationStoppedEvent"/>; "stopped by the application" when null.</param>
    /// <param name="cancellationToken">Stops waiting for the recording to finalize (files stay playable).</param>
    /// <returns>The recording's files, when recording.</returns>
    public async Task<SessionRecordingResult?> StopAsync(string? reason = null, CancellationToken cancellationToken = default)
    {
        var previous = Interlocked.Exchange(ref _state, Stopping);
        if (previous is Stopping or Stopped)
        {
            Volatile.Write(ref _state, previous);
            return await _stopped.Task.WaitAsync(cancellationToken);
        }

        reason ??= "stopped by the application";
        SessionRecordingResult? result = null;
        try
        {
            _turns.Writer.TryComplete();
            await _lifetime.CancelAsync();
            await Task.WhenAll(_turnLoop, _voiceLoop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            result = await FinalizeRecordingAsync(cancellationToken);
        }
        finally
        {
            await CloseSessionAsync();
            PipelineLog.Stopped(_logger, reason);
            Publish(new ConversationStoppedEvent(reason, result));
            _events.Complete();
            Volatile.Write(ref _state, Stopped);
            _stopped.TrySetResult(result);
        }

        return result;
    }

    /// <summary>Stops the conversation (see <see cref="StopAsync"/>).</summary>
    /// <returns>A task that completes when everything is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        await StopAsync("disposed", CancellationToken.None);
        _lifetime.Dispose();
    }

    private async Task StartRecordingAsync(IAvatarSession session, CancellationToken cancellationToken)
    {
        if (Recorder is null || !Options.Recording)
        {
            return;
        }

        if (session.Room is null)
        {
            ReportError(ConversationStage.Recording, "The avatar session has no room to record; the conversation goes on without recording.", null, recoverable: true);
            return;
        }

        try
        {
            // The pipeline cuts the clips itself, one per answer (an answer is several utterances).
            var recording = await Recorder.StartAsync(
                new SessionRecordingRequest { SessionId = session.SessionId, Room = session.Room, ParticipantIdentity = session.AvatarIdentity },
                cancellationToken);
            recording.Failed += OnRecordingFailed;
            _recording = recording;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ReportError(ConversationStage.Recording, $"Recording could not start: {ex.Message}; the conversation goes on without recording.", ex, recoverable: true);
        }
    }

    private async Task<SessionRecordingResult?> FinalizeRecordingAsync(CancellationToken cancellationToken)
    {
        ISessionRecording? recording;
        lock (_recordingLock)
        {
            recording = _recording;
        }

        if (recording is null)
        {
            return null;
        }

        recording.Failed -= OnRecordingFailed;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.RecordingFinalizeTimeout);
        try
        {
            return await recording.CompleteAsync(timeout.Token);
        }
        catch (Exception ex)
        {
            ReportError(ConversationStage.Recording, $"Finalizing the recording failed: {ex.Message}", ex, recoverable: false);
            return null;
        }
        finally
        {
            await recording.DisposeAsync();
        }
    }

    private async Task CloseSessionAsync()
    {
        var session = _session;
        if (session is null)
        {
            return;
        }

        session.SpeakingStarted -= OnSpeakingStarted;
        session.SpeakingEnded -= OnSpeakingEnded;
        session.StateChanged -= OnSessionStateChanged;
        _avatarSpeaking = false;
        if (_providedSession is not null)
        {
            return;
        }

        try
        {
            await session.DisposeAsync();
        }
        catch (Exception ex)
        {
            ReportError(ConversationStage.Avatar, $"Stopping the avatar session failed: {ex.Message}", ex, recoverable: false);
        }
    }

    private async Task RunTurnsAsync()
    {
        try
        {
            await foreach (var pending in _turns.Reader.ReadAllAsync(_lifetime.Token))
            {
                var result = await ProcessTurnAsync(pending);
                LastTurn = result;
                pending.Completion.TrySetResult(result);
            }
        }
        catch (OperationCanceledException) when (_lifetime.IsCancellationRequested)
        {
        }

        while (_turns.Reader.TryRead(out var pending))
        {
            pending.Completion.TrySetCanceled(_lifetime.Token);
        }
    }

    private async Task<ConversationTurnResult> ProcessTurnAsync(PendingTurn pending)
    {
        var id = Interlocked.Increment(ref _turnCounter);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(_lifetime.Token);
        var turn = new ActiveTurn(id, pending, cancellation, _time.GetTimestamp());
        using var activity = ConversationTelemetry.ActivitySource.StartActivity("avatarkit.turn");
        activity?.SetTag("avatarkit.turn.id", id);
        activity?.SetTag("avatarkit.turn.source", pending.Source.ToString());
        turn.TraceContext = activity?.Context ?? default;
        Volatile.Write(ref _activeTurn, turn);

        History.AddUserMessage(pending.Text);
        Publish(new UserTurnEvent(pending.Text, pending.Source) { TurnId = id });
        AddTranscript("user", pending.Text);

        var answer = new StringBuilder();
        string? error = null;
        var sentences = Channel.CreateBounded<string>(new BoundedChannelOptions(32) { SingleReader = true, SingleWriter = true });
        var speaker = SpeakSentencesAsync(turn, sentences.Reader, cancellation.Token);
        var chatActivity = ConversationTelemetry.ActivitySource.StartActivity("avatarkit.chat");
        try
        {
            var chunker = new SentenceChunker(Options.MaxSentenceLength);
            var messages = History.ToChatMessages();
            turn.LlmRequest = _time.GetTimestamp();
            await foreach (var update in ChatClient.GetStreamingResponseAsync(messages, Options.ChatOptions, cancellation.Token))
            {
                var text = update.Text;
                if (string.IsNullOrEmpty(text))
                {
                    continue;
                }

                if (turn.FirstToken == 0)
                {
                    turn.FirstToken = _time.GetTimestamp();
                    activity?.AddEvent(new ActivityEvent("first_token"));
                }

                answer.Append(text);
                Publish(new AnswerTextEvent(text) { TurnId = id });
                chunker.Append(text);
                while (chunker.TryTakeSentence(out var sentence))
                {
                    await QueueSentenceAsync(turn, sentences.Writer, sentence, cancellation.Token);
                }
            }

            if (chunker.Complete() is { } last)
            {
                await QueueSentenceAsync(turn, sentences.Writer, last, cancellation.Token);
            }

            turn.AnswerDone = _time.GetTimestamp();
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // Interrupted, stopping, or the speaker failed (it reports its own error).
            chatActivity?.SetTag("avatarkit.chat.cancelled", true);
        }
        catch (Exception ex)
        {
            error = $"The chat client failed: {ex.Message}";
            chatActivity?.SetStatus(ActivityStatusCode.Error, error);
            ReportError(ConversationStage.Chat, error, ex, recoverable: true);
        }
        finally
        {
            sentences.Writer.TryComplete();
            chatActivity?.Dispose();
        }

        var speakError = await speaker;
        if (speakError is not null && turn.Interrupt is null)
        {
            error ??= $"The avatar could not speak: {speakError.Message}";
            var recoverable = _session?.State is not AvatarSessionState.Closed and not AvatarSessionState.Closing;
            ReportError(ConversationStage.Avatar, error, speakError, recoverable);
        }

        if (!cancellation.IsCancellationRequested && turn.SentCount > 0)
        {
            await WaitForSpeechToEndAsync(turn, cancellation.Token);
        }

        turn.Close();
        Interlocked.CompareExchange(ref _activeTurn, null, turn);
        var outcome = turn.Interrupt is not null || (error is null && _lifetime.IsCancellationRequested)
            ? TurnOutcome.Interrupted
            : error is not null ? TurnOutcome.Failed : TurnOutcome.Completed;
        var spoken = outcome == TurnOutcome.Completed ? answer.ToString().Trim() : turn.SpokenText;
        if (outcome == TurnOutcome.Completed)
        {
            History.AddAssistantMessage(spoken);
        }
        else if (spoken.Length > 0)
        {
            History.AddAssistantMessage(spoken, interrupted: true);
        }
        else if (outcome == TurnOutcome.Failed)
        {
            History.RemoveLastUserMessage();
        }

        AddTranscript("avatar", spoken);
        var clip = EndClip(turn);
        var metrics = ComputeMetrics(turn);
        ConversationTelemetry.Record(metrics, outcome);
        activity?.SetTag("avatarkit.turn.outcome", outcome.ToString());
        if (outcome == TurnOutcome.Failed)
        {
            activity?.SetStatus(ActivityStatusCode.Error, error);
        }

        PipelineLog.TurnEnded(_logger, id, pending.Source, outcome, metrics.ToFirstSpeech?.TotalMilliseconds);
        PipelineLog.TurnContent(_logger, id, pending.Text, spoken);
        var result = new ConversationTurnResult(id, pending.Text, answer.ToString().Trim(), spoken, outcome, metrics) { Error = error, Clip = clip };
        Publish(new TurnCompletedEvent(result) { TurnId = id });
        return result;
    }

    private async ValueTask QueueSentenceAsync(ActiveTurn turn, ChannelWriter<string> writer, string sentence, CancellationToken cancellationToken)
    {
        if (turn.FirstSentenceReady == 0)
        {
            turn.FirstSentenceReady = _time.GetTimestamp();
        }

        await writer.WriteAsync(sentence, cancellationToken);
    }

    private async Task<Exception?> SpeakSentencesAsync(ActiveTurn turn, ChannelReader<string> sentences, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var sentence in sentences.ReadAllAsync(cancellationToken))
            {
                var index = turn.AddSentence(sentence);
                if (index == 0)
                {
                    turn.FirstSpeakCall = _time.GetTimestamp();
                }

                using (var speakActivity = ConversationTelemetry.ActivitySource.StartActivity("avatarkit.avatar.speak"))
                {
                    speakActivity?.SetTag("avatarkit.sentence.index", index);
                    await _session!.SpeakAsync(sentence, cancellationToken);
                }

                if (index == 0)
                {
                    turn.FirstSentenceAccepted = _time.GetTimestamp();
                }

                Publish(new AnswerSentenceEvent(sentence, index) { TurnId = turn.Id });
            }

            return null;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception ex)
        {
            // The answer cannot be spoken: stop asking the chat client for the rest of it.
            await turn.Cancellation.CancelAsync();
            return ex;
        }
    }

    private async Task WaitForSpeechToEndAsync(ActiveTurn turn, CancellationToken cancellationToken)
    {
        // Done when every sentence's utterance ended; for providers without per-utterance
        // events, when the avatar has not been speaking for SpeakingIdleTimeout.
        turn.LastSpeechEvent = Math.Max(turn.LastSpeechEvent, _time.GetTimestamp());
        try
        {
            while (turn.EndedCount < turn.SentCount)
            {
                if (_session?.State != AvatarSessionState.Speaking && _time.GetElapsedTime(turn.LastSpeechEvent) >= Options.SpeakingIdleTimeout)
                {
                    return;
                }

                await turn.SpeechSignal.WaitAsync(TimeSpan.FromMilliseconds(100), cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task InterruptCoreAsync(InterruptReason reason, long trigger, CancellationToken cancellationToken)
    {
        var turn = Volatile.Read(ref _activeTurn);
        var session = _session;
        if (turn is not null && !turn.TryInterrupt(reason))
        {
            return;
        }

        if (turn is null && (session is null || (reason == InterruptReason.BargeIn && !_avatarSpeaking)))
        {
            return;
        }

        // The barge-in arrives on the voice loop's flow: link the span to the turn it cuts.
        using var activity = ConversationTelemetry.ActivitySource.StartActivity("avatarkit.interrupt", ActivityKind.Internal, turn?.TraceContext ?? default);
        activity?.SetTag("avatarkit.interrupt.reason", reason.ToString());

        // Cancel first so no further sentence is queued after the avatar's queue was cleared.
        if (turn is not null)
        {
            await turn.Cancellation.CancelAsync();
        }

        try
        {
            if (session is not null)
            {
                await session.InterruptAsync(cancellationToken);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ReportError(ConversationStage.Avatar, $"Interrupting the avatar failed: {ex.Message}", ex, recoverable: true);
        }

        var latency = _time.GetElapsedTime(trigger);
        turn?.InterruptLatency = latency;
        _avatarSpeaking = false;
        ConversationTelemetry.InterruptLatency.Record(latency.TotalMilliseconds, new KeyValuePair<string, object?>("avatarkit.interrupt.reason", reason.ToString()));
        PipelineLog.Interrupted(_logger, turn?.Id, reason, latency.TotalMilliseconds);
        Publish(new InterruptedEvent(reason, turn?.SpokenText ?? string.Empty, latency) { TurnId = turn?.Id });
    }

    private async Task RunVoiceAsync(ISpeechToTextClient speechToText, IAudioInput input, CancellationToken cancellationToken)
    {
        PipelineLog.VoiceStarted(_logger, input.Name);
        var audio = Channel.CreateBounded<AudioFrame>(
            new BoundedChannelOptions(500) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true },
            static dropped => dropped.Dispose());
        using var captureStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var detector = new TurnDetector(Options.SilenceTimeout, _time, new TurnDetectorCallbacks(OnUserSpeechStarted, OnTranscript, OnUserTurn));
        _detector = detector;
        var capture = CaptureAsync(input, audio.Writer, captureStop.Token);
        var failures = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                using var stream = new AudioFrameStream(audio.Reader);
                var options = new SpeechToTextOptions { SpeechSampleRate = Options.InputFormat.SampleRate };
                try
                {
                    await foreach (var update in speechToText.GetStreamingTextAsync(stream, options, cancellationToken))
                    {
                        failures = 0;
                        if (update.Kind == SpeechToTextResponseUpdateKind.Error)
                        {
                            ReportError(ConversationStage.SpeechToText, $"Speech-to-text reported: {update.Text}", null, recoverable: true);
                            continue;
                        }

                        detector.Process(update, ToTimestamp(update.EndTime));
                    }

                    detector.Flush();
                    if (audio.Reader.Completion.IsCompleted)
                    {
                        break;
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex)
                {
                    detector.Flush();
                    var giveUp = ++failures > Options.MaxSpeechToTextRetries;
                    var message = giveUp
                        ? $"Speech-to-text failed {failures} times in a row; voice input stopped (text input still works): {ex.Message}"
                        : $"Speech-to-text failed, reconnecting (attempt {failures} of {Options.MaxSpeechToTextRetries}): {ex.Message}";
                    ReportError(ConversationStage.SpeechToText, message, ex, recoverable: true);
                    if (giveUp || audio.Reader.Completion.IsCompleted)
                    {
                        break;
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(2000, 100 * (1 << Math.Min(failures, 5)))), _time, cancellationToken)
                        .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
        }
        finally
        {
            await captureStop.CancelAsync();
            await capture;
            while (audio.Reader.TryRead(out var frame))
            {
                frame.Dispose();
            }

            _detector = null;
            _voiceActive = false;
            PipelineLog.VoiceEnded(_logger);
        }
    }

    private async Task CaptureAsync(IAudioInput input, ChannelWriter<AudioFrame> writer, CancellationToken cancellationToken)
    {
        var recordingFailed = false;
        try
        {
            await foreach (var frame in input.CaptureAsync(Options.InputFormat, cancellationToken))
            {
                if (Interlocked.Read(ref _captureStart) == 0)
                {
                    Interlocked.Exchange(ref _captureStart, _time.GetTimestamp() - (long)(frame.Timestamp.TotalSeconds * _time.TimestampFrequency));
                }

                if (_recording is { } recording && !recordingFailed)
                {
                    try
                    {
                        await recording.WriteUserAudioAsync(frame, cancellationToken);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        recordingFailed = true;
                        ReportError(ConversationStage.Recording, $"The user's audio could not be recorded: {ex.Message}", ex, recoverable: true);
                    }
                }

                if (!writer.TryWrite(frame))
                {
                    frame.Dispose();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            ReportError(ConversationStage.AudioInput, $"Audio capture from '{input.Name}' failed; voice input stopped (text input still works): {ex.Message}", ex, recoverable: true);
        }
        finally
        {
            writer.TryComplete();
        }
    }

    private long? ToTimestamp(TimeSpan? audioTime)
    {
        var start = Interlocked.Read(ref _captureStart);
        if (audioTime is not { } t || start == 0 || t < TimeSpan.Zero)
        {
            return null;
        }

        // A provider's audio time cannot lie beyond the audio captured so far; clamping keeps a bogus
        // value (days, TimeSpan.MaxValue) from overflowing the timestamp and the latency metrics.
        var captured = _time.GetTimestamp() - start;
        return start + (long)Math.Min(t.TotalSeconds * _time.TimestampFrequency, captured);
    }

    private void OnUserSpeechStarted(long timestamp)
    {
        Publish(new UserSpeechStartedEvent());
        if (Options.BargeIn && (Volatile.Read(ref _activeTurn) is not null || _avatarSpeaking))
        {
            _ = InterruptCoreAsync(InterruptReason.BargeIn, timestamp, _lifetime.Token);
        }
    }

    private void OnTranscript(string text, bool isFinal) => Publish(new TranscriptEvent(text, isFinal));

    private void OnUserTurn(DetectedTurn detected)
    {
        var turn = new PendingTurn(detected.Text, ConversationInputSource.Voice, detected.Committed, detected.EndOfSpeech);
        if (!_turns.Writer.TryWrite(turn) && !_lifetime.IsCancellationRequested)
        {
            ReportError(ConversationStage.SpeechToText, "Too many turns are waiting to be answered; this one was dropped.", null, recoverable: true);
        }
    }

    private void OnSpeakingStarted(object? sender, AvatarSpeechEventArgs e)
    {
        _avatarSpeaking = true;
        var turn = Volatile.Read(ref _activeTurn);
        if (turn?.OnSpeakingStarted(e.Text, _time.GetTimestamp()) == true)
        {
            BeginClip(turn);
        }

        Publish(new AvatarSpeakingStartedEvent(e.Text) { TurnId = turn?.Id });
    }

    private void OnSpeakingEnded(object? sender, AvatarSpeechEventArgs e)
    {
        _avatarSpeaking = false;
        var turn = Volatile.Read(ref _activeTurn);
        turn?.OnSpeakingEnded(_time.GetTimestamp());
        Publish(new AvatarSpeakingEndedEvent(e.Text, e.Interrupted) { TurnId = turn?.Id });
    }

    private void OnSessionStateChanged(object? sender, AvatarSessionStateChangedEventArgs e)
    {
        if (e.Current == AvatarSessionState.Closed && Volatile.Read(ref _state) == Running)
        {
            var reason = $"The avatar session ended{(e.Reason is null ? string.Empty : $": {e.Reason}")}.";
            ReportError(ConversationStage.Avatar, reason, null, recoverable: false);
            _ = Task.Run(() => StopAsync(reason, CancellationToken.None));
        }
    }

    private void OnRecordingFailed(object? sender, RecordingErrorEventArgs e) =>
        ReportError(
            ConversationStage.Recording,
            e.RecordingStopped ? $"Recording stopped: {e.Exception.Message}; the conversation goes on." : $"Recording recovered from: {e.Exception.Message}",
            e.Exception,
            recoverable: true);

    private void BeginClip(ActiveTurn turn)
    {
        lock (_recordingLock)
        {
            if (_recording is { } recording && !turn.ClipStarted)
            {
                turn.ClipStarted = true;
                recording.BeginClip(turn.Pending.Text);
            }
        }
    }

    private RecordedClip? EndClip(ActiveTurn turn)
    {
        lock (_recordingLock)
        {
            if (_recording is not { } recording || !turn.ClipStarted)
            {
                return null;
            }

            var before = recording.Clips.Count;
            recording.EndClip();
            var clips = recording.Clips;
            return clips.Count > before ? clips[^1] : null;
        }
    }

    private void AddTranscript(string speaker, string text)
    {
        if (text.Length == 0)
        {
            return;
        }

        lock (_recordingLock)
        {
            _recording?.AddTranscript(speaker, text);
        }
    }

    private ConversationTurnMetrics ComputeMetrics(ActiveTurn turn)
    {
        var pending = turn.Pending;
        var speechEnd = pending.EndOfSpeech ?? pending.Submitted;
        return new ConversationTurnMetrics
        {
            EndOfSpeechToTranscript = pending.EndOfSpeech is { } end ? Between(end, pending.Submitted) : null,
            TranscriptToFirstToken = Between(pending.Submitted, turn.FirstToken),
            FirstTokenToFirstSentence = Between(turn.FirstToken, turn.FirstSentenceAccepted),
            FirstSentenceToSpeaking = Between(turn.FirstSentenceAccepted, turn.AvatarSpeaking),
            ToFirstSpeech = Between(speechEnd, turn.AvatarSpeaking),
            PipelineOverhead = turn.FirstSpeakCall == 0 ? null : Between(pending.Submitted, turn.LlmRequest) + Between(turn.FirstSentenceReady, turn.FirstSpeakCall),
            AnswerDuration = Between(turn.LlmRequest, turn.AnswerDone),
            InterruptLatency = turn.InterruptLatency,
        };
    }

    private TimeSpan? Between(long from, long to) => from == 0 || to == 0 ? null : _time.GetElapsedTime(from, Math.Max(from, to));

    private void ReportError(ConversationStage stage, string message, Exception? exception, bool recoverable)
    {
        ConversationTelemetry.Errors.Add(1, new KeyValuePair<string, object?>("avatarkit.stage", stage.ToString()));
        PipelineLog.StageFailed(_logger, stage, recoverable, message, exception);
        Publish(new ConversationErrorEvent(stage, message, exception, recoverable) { TurnId = Volatile.Read(ref _activeTurn)?.Id });
    }

    private void Publish(ConversationEvent conversationEvent) => _events.Publish(conversationEvent);
}

/// <summary>What a conversation is doing.</summary>
public enum ConversationState
{
    /// <summary>Not started yet, or starting.</summary>
    Starting,

    /// <summary>Waiting for the user.</summary>
    Listening,

    /// <summary>The user is speaking.</summary>
    UserSpeaking,

    /// <summary>An answer is being prepared.</summary>
    Thinking,

    /// <summary>The avatar is speaking.</summary>
    AvatarSpeaking,

    /// <summary>Stopped.</summary>
    Stopped,
}
