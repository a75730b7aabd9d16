using System.Globalization;
using System.Threading.Channels;
using AvatarKit.Recording.Clips;
using AvatarKit.Recording.Encoding;
using Microsoft.Extensions.Logging;

namespace AvatarKit.Recording.Session;

/// <summary>
/// A running recording: source readers place frames on the media timeline, one tick loop writes
/// exactly one video frame and one tick of audio per 1/fps of media time to the live encoder, and a
/// clip worker cuts answers out of the growing file.
/// </summary>
/// <remarks>
/// Memory is constant: video waits in a small drop-oldest queue (drops counted), audio in bounded
/// queues that push back on their sources, and every frame is disposed once written, superseded or
/// dropped. The encoder's raw pipes carry no timestamps, so constant rate is kept by construction:
/// the last picture is repeated when no new one arrived, silence is written where no audio did.
/// </remarks>
internal sealed class FfmpegSessionRecording : ISessionRecording
{
    private const int SampleRate = EncoderSettings.AudioSampleRate;
    private static readonly AudioFormat EncoderAudio = AudioFormat.Pcm16Mono48kHz;
    private static readonly TimeSpan FragmentMargin = TimeSpan.FromSeconds(1.2);
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(15);

    private readonly RecordingOptions _options;
    private readonly string _ffmpegPath;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SessionRecordingRequest _request;
    private readonly string _directory;
    private readonly string _fileStem;
    private readonly DateTimeOffset _startedAt;
    private readonly MediaTimeline _timeline;
    private readonly MediaTimeline.Clock _avatarClock = new("avatar");
    private readonly MediaTimeline.Clock _userClock = new("user");
    private readonly MediaTimeline.Track _videoTrack = new();
    private readonly MediaTimeline.Track _avatarAudioTrack = new();
    private readonly MediaTimeline.Track _userAudioTrack = new();
    private readonly Channel<(VideoFrame Frame, TimeSpan Position)> _video;
    private readonly Channel<(AudioFrame Frame, long Start)> _avatarAudio;
    private readonly Channel<(AudioFrame Frame, long Start)> _userAudio;
    private readonly Channel<PendingClip> _clipQueue = Channel.CreateUnbounded<PendingClip>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly CancellationTokenSource _sourcesCts = new();
    private readonly CancellationTokenSource _clipsCts = new();
    private readonly Lock _gate = new();
    private readonly List<Segment> _segments = [];
    private readonly List<RecordedClip> _clips = [];
    private readonly List<SidecarClip> _sidecarClips = [];
    private readonly List<SidecarLine> _transcript = [];
    private readonly List<SidecarUncutClip> _uncutClips = [];
    private readonly List<Task> _sources = [];
    private readonly TaskCompletionSource _sourcesStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _sourcesPending;
    private FfmpegEncoder _encoder;
    private Task _tickLoop = Task.CompletedTask;
    private Task _clipWorker = Task.CompletedTask;
    private Task<SessionRecordingResult>? _completion;
    private (TimeSpan Start, string? Text, DateTimeOffset WallStart)? _openClip;
    private PendingClip? _cutting;
    private Exception? _stopError;
    private long _dropped;
    private long _avatarShiftTicks;
    private int _restarts;
    private volatile bool _draining;
    private volatile bool _stopped;
    private volatile bool _encoderClosed;
    private bool _idling;

    private FfmpegSessionRecording(RecordingOptions options, string ffmpegPath, SessionRecordingRequest request, ILogger logger, TimeProvider time)
    {
        _options = options;
        _ffmpegPath = ffmpegPath;
        _request = request;
        _logger = logger;
        _time = time;
        _directory = Path.GetFullPath(options.OutputDirectory!);
        _fileStem = "session_" + string.Concat(request.SessionId.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
        _startedAt = time.GetUtcNow();
        _timeline = new MediaTimeline(time, options.JitterBuffer, TimeSpan.FromMilliseconds(300), options.IdleAfter);
        _video = Channel.CreateBounded<(VideoFrame Frame, TimeSpan Position)>(
            new BoundedChannelOptions(options.VideoQueueFrames) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            dropped =>
            {
                Interlocked.Increment(ref _dropped);
                dropped.Frame.Dispose();
            });

        // Ten seconds of 20 ms frames: audio is never dropped here; a full queue makes its source wait.
        _avatarAudio = Channel.CreateBounded<(AudioFrame Frame, long Start)>(new BoundedChannelOptions(500) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _userAudio = Channel.CreateBounded<(AudioFrame Frame, long Start)>(new BoundedChannelOptions(500) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        SessionFilePath = Path.Combine(_directory, _fileStem + ".mp4");
        _encoder = FfmpegEncoder.Start(ffmpegPath, options, SessionFilePath, OpenOutput, logger);
        _segments.Add(new Segment(SessionFilePath, TimeSpan.Zero));
    }

    /// <inheritdoc />
    public event EventHandler<RecordingErrorEventArgs>? Failed;

    /// <inheritdoc />
    public string SessionFilePath { get; }

    /// <inheritdoc />
    public IReadOnlyList<RecordedClip> Clips
    {
        get
        {
            lock (_gate)
            {
                return [.. _clips];
            }
        }
    }

    /// <inheritdoc />
    public long DroppedVideoFrames => Interlocked.Read(ref _dropped);

    /// <summary>Gets the media time handed to the encoder so far.</summary>
    internal TimeSpan WrittenDuration => _timeline.Written;

    /// <summary>Gets how far the avatar's frames have been moved later in media time, in all, by re-anchoring a stalled source.</summary>
    internal TimeSpan AvatarClockShift => TimeSpan.FromTicks(Interlocked.Read(ref _avatarShiftTicks));

    /// <summary>Gets the end of the newest frame received, in media time.</summary>
    internal TimeSpan ReceivedDuration => _timeline.Watermark(draining: true);

    /// <summary>Gets a task that completes when every source is being read (room tracks subscribed).</summary>
    internal Task SourcesStarted => _sourcesStarted.Task;

    /// <summary>Gets a value indicating whether completing has closed the session file (only clips are left to cut).</summary>
    internal bool EncoderClosed => _encoderClosed;

    /// <summary>Gets the current ffmpeg process id (tests kill it).</summary>
    internal int EncoderProcessId => _encoder.ProcessId;

    /// <summary>Gets the session files written so far (more than one after an encoder restart).</summary>
    internal IReadOnlyList<string> SegmentFiles
    {
        get
        {
            lock (_gate)
            {
                return [.. _segments.Select(s => s.File)];
            }
        }
    }

    private string SidecarPath => Path.Combine(_directory, _fileStem + ".json");

    /// <summary>Starts recording <paramref name="request"/>.</summary>
    /// <param name="options">Validated options with an output directory.</param>
    /// <param name="ffmpegPath">The resolved ffmpeg executable.</param>
    /// <param name="request">What to record.</param>
    /// <param name="logger">Where to log.</param>
    /// <param name="time">The clock.</param>
    /// <returns>The running recording.</returns>
    public static FfmpegSessionRecording Start(RecordingOptions options, string ffmpegPath, SessionRecordingRequest request, ILogger logger, TimeProvider time)
    {
        var recording = new FfmpegSessionRecording(options, ffmpegPath, request, logger, time);
        recording.StartWorkers();
        Log.RecordingStarted(logger, request.SessionId, recording.SessionFilePath);
        return recording;
    }

    /// <inheritdoc />
    public async ValueTask WriteUserAudioAsync(AudioFrame frame, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (_stopped || _draining)
        {
            return;
        }

        await OfferAudioAsync(frame.Format == EncoderAudio ? frame.Clone() : AudioConversion.Convert(frame, EncoderAudio), frame.Timestamp, _userClock, _userAudioTrack, _userAudio, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public void BeginClip(string? text = null)
    {
        lock (_gate)
        {
            if (_stopped || _draining || !_options.CutClips)
            {
                return;
            }

            EndClipLocked();
            _openClip = (_timeline.LiveEdge, text, _time.GetUtcNow());
        }
    }

    /// <inheritdoc />
    public void EndClip()
    {
        lock (_gate)
        {
            EndClipLocked();
        }
    }

    /// <inheritdoc />
    public void AddTranscript(string speaker, string text)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(speaker);
        ArgumentNullException.ThrowIfNull(text);
        lock (_gate)
        {
            _transcript.Add(new SidecarLine(_timeline.LiveEdge.TotalSeconds, speaker, text));
        }
    }

    /// <inheritdoc />
    public Task<SessionRecordingResult> CompleteAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return _completion ??= CompleteCoreAsync(cancellationToken);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RecordingException or IOException or OperationCanceledException)
        {
            // Disposal finalizes best-effort; the failure was reported through Failed and the log.
        }
    }

    private Stream OpenOutput(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return _options.OpenOutputStream?.Invoke(path) ?? new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 1);
    }

    private void StartWorkers()
    {
        var token = _sourcesCts.Token;
        var room = _request.Room ?? _request.Avatar?.Room;
        var identity = _request.ParticipantIdentity ?? _request.Avatar?.AvatarIdentity;
        List<Func<Task>> readers = [];
        if (_request.Video is { } video)
        {
            readers.Add(() => ReadSourceAsync("video", video, OfferVideo, token));
        }
        else if (room is not null)
        {
            readers.Add(() => ReadRoomAsync(room, identity, RoomTrackKind.Video, token));
        }

        if (_request.Audio is { } audio)
        {
            readers.Add(() => ReadSourceAsync("audio", audio, f => OfferOwnedAvatarAudioAsync(f, token), token));
        }
        else if (room is not null)
        {
            readers.Add(() => ReadRoomAsync(room, identity, RoomTrackKind.Audio, token));
        }

        _sourcesPending = readers.Count;
        if (readers.Count == 0)
        {
            _sourcesStarted.TrySetResult();
        }

        _sources.AddRange(readers.Select(reader => Task.Run(reader, CancellationToken.None)));
        if (_request.Avatar is { } avatar && _options.CutClips)
        {
            avatar.SpeakingStarted += OnSpeakingStarted;
            avatar.SpeakingEnded += OnSpeakingEnded;
        }

        _tickLoop = Task.Run(RunTicksAsync, CancellationToken.None);
        _clipWorker = Task.Run(RunClipWorkerAsync, CancellationToken.None);
    }

    private void OnSpeakingStarted(object? sender, AvatarSpeechEventArgs e) => BeginClip(e.Text);

    private void OnSpeakingEnded(object? sender, AvatarSpeechEventArgs e) => EndClip();

    private void EndClipLocked()
    {
        if (_openClip is { } open)
        {
            _openClip = null;
            _clipQueue.Writer.TryWrite(new PendingClip(open.Start, _timeline.LiveEdge, open.Text, open.WallStart));
        }
    }

    private async Task ReadSourceAsync<TFrame>(string kind, IAsyncEnumerable<TFrame> source, Func<TFrame, ValueTask> offer, CancellationToken cancellationToken)
        where TFrame : MediaFrame
    {
        MarkSourceStarted();
        try
        {
            await foreach (var frame in source.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                await offer(frame).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Recording completes.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A broken source must not end the conversation; the recording goes on with silence / the last picture.
            Log.SourceFailed(_logger, ex, kind, _request.SessionId);
        }
    }

    private void MarkSourceStarted()
    {
        if (!_sourcesStarted.Task.IsCompleted && Interlocked.Decrement(ref _sourcesPending) <= 0)
        {
            _sourcesStarted.TrySetResult();
        }
    }

    private async Task ReadRoomAsync(IRealtimeRoom room, string? identity, RoomTrackKind kind, CancellationToken cancellationToken)
    {
        var name = kind == RoomTrackKind.Video ? "video" : "audio";
        try
        {
            identity ??= await FindPublisherAsync(room, cancellationToken).ConfigureAwait(false);
            while (!cancellationToken.IsCancellationRequested && room.State != RoomConnectionState.Disconnected)
            {
                var track = await room.WaitForTrackAsync(identity, kind, cancellationToken).ConfigureAwait(false);
                if (kind == RoomTrackKind.Video)
                {
                    await ReadSourceAsync(name, room.ReadVideoAsync(track, VideoPixelFormat.I420, cancellationToken), OfferVideo, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await ReadSourceAsync(name, room.ReadAudioAsync(track, EncoderAudio, cancellationToken), f => OfferOwnedAvatarAudioAsync(f, cancellationToken), cancellationToken).ConfigureAwait(false);
                }

                // The track ended (unpublished); the avatar may publish a new one.
                await Task.Delay(TimeSpan.FromMilliseconds(200), _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Recording completes.
        }
    }

    private static async Task<string> FindPublisherAsync(IRealtimeRoom room, CancellationToken cancellationToken)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnTrack(object? sender, RoomTrackEventArgs e) => found.TrySetResult(e.Track.ParticipantIdentity);
        room.TrackSubscribed += OnTrack;
        try
        {
            var existing = room.RemoteParticipants.FirstOrDefault(p => p.Tracks.Any(t => t.Kind == RoomTrackKind.Video))
                ?? room.RemoteParticipants.FirstOrDefault(p => p.Tracks.Count > 0);
            return existing?.Identity ?? await found.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            room.TrackSubscribed -= OnTrack;
        }
    }

    private ValueTask OfferVideo(VideoFrame frame)
    {
        if (_stopped || _draining)
        {
            frame.Dispose();
            return ValueTask.CompletedTask;
        }

        var prepared = VideoFramePreparer.Prepare(frame, _options.Width, _options.Height);
        var (position, shift) = _timeline.Place(_avatarClock, _videoTrack, prepared.Timestamp, TimeSpan.FromTicks(TimeSpan.TicksPerSecond / _options.FrameRate));
        NoteShift(_avatarClock, shift);
        if (!_video.Writer.TryWrite((prepared, position)))
        {
            prepared.Dispose();
        }

        Signal();
        return ValueTask.CompletedTask;
    }

    private ValueTask OfferOwnedAvatarAudioAsync(AudioFrame frame, CancellationToken cancellationToken)
    {
        if (frame.Format == EncoderAudio)
        {
            return OfferAudioAsync(frame, frame.Timestamp, _avatarClock, _avatarAudioTrack, _avatarAudio, cancellationToken);
        }

        var converted = AudioConversion.Convert(frame, EncoderAudio);
        frame.Dispose();
        return OfferAudioAsync(converted, converted.Timestamp, _avatarClock, _avatarAudioTrack, _avatarAudio, cancellationToken);
    }

    private async ValueTask OfferAudioAsync(AudioFrame frame, TimeSpan timestamp, MediaTimeline.Clock clock, MediaTimeline.Track track, Channel<(AudioFrame Frame, long Start)> queue, CancellationToken cancellationToken)
    {
        if (_stopped || _draining)
        {
            frame.Dispose();
            return;
        }

        var (position, shift) = _timeline.Place(clock, track, timestamp, frame.Duration);
        NoteShift(clock, shift);
        var start = (position.Ticks * SampleRate + (TimeSpan.TicksPerSecond / 2)) / TimeSpan.TicksPerSecond;
        try
        {
            await queue.Writer.WriteAsync((frame, start), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ChannelClosedException or OperationCanceledException)
        {
            frame.Dispose();
            if (ex is OperationCanceledException)
            {
                throw;
            }

            return;
        }

        Signal();
    }

    private void NoteShift(MediaTimeline.Clock clock, TimeSpan shift)
    {
        if (shift != TimeSpan.Zero)
        {
            if (clock == _avatarClock)
            {
                Interlocked.Add(ref _avatarShiftTicks, shift.Ticks);
            }

            Log.SourceReanchored(_logger, clock.Name, _request.SessionId, shift);
        }
    }

    private void Signal()
    {
        if (_signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
                // Another producer signalled first; one wake-up is enough.
            }
        }
    }

    private static TimeSpan TimeAt(long tick, int fps) => TimeSpan.FromTicks(tick * TimeSpan.TicksPerSecond / fps);

    private async Task RunTicksAsync()
    {
        var fps = _options.FrameRate;
        var samplesPerTick = SampleRate / fps;
        var separate = _options.AudioLayout == RecordingAudioLayout.SeparateTracks;
        var mix = new short[samplesPerTick];
        var user = separate ? new short[samplesPerTick] : null;
        var black = VideoFramePreparer.Black(_options.Width, _options.Height);
        using var avatarBuffer = new AudioTrackBuffer();
        using var userBuffer = new AudioTrackBuffer();
        VideoFrame? current = null;
        long tick = 0;
        try
        {
            while (await WaitForTickAsync(TimeAt(tick, fps), TimeAt(tick + 1, fps)).ConfigureAwait(false))
            {
                // The picture shown during this tick: the newest frame due by the middle of it (nearest frame, not the late one).
                var showUntil = TimeAt(tick, fps) + TimeSpan.FromTicks(TimeSpan.TicksPerSecond / fps / 2);
                while (_video.Reader.TryPeek(out var next) && next.Position <= showUntil && _video.Reader.TryRead(out next))
                {
                    current?.Dispose();
                    current = next.Frame;
                }

                var sampleStart = tick * samplesPerTick;
                Pull(_avatarAudio, avatarBuffer, sampleStart + samplesPerTick);
                Pull(_userAudio, userBuffer, sampleStart + samplesPerTick);
                Array.Clear(mix);
                avatarBuffer.MixInto(mix, sampleStart);
                if (user is not null)
                {
                    Array.Clear(user);
                    userBuffer.MixInto(user, sampleStart);
                }
                else
                {
                    userBuffer.MixInto(mix, sampleStart);
                }

                if (!await WriteTickAsync(current is null ? black : current.Memory, mix, user).ConfigureAwait(false))
                {
                    return;
                }

                tick++;
                _timeline.Written = TimeAt(tick, fps);
            }
        }
        finally
        {
            current?.Dispose();
            foreach (var queue in new[] { _avatarAudio, _userAudio })
            {
                queue.Writer.TryComplete();
                while (queue.Reader.TryRead(out var left))
                {
                    left.Frame.Dispose();
                }
            }

            _video.Writer.TryComplete();
            while (_video.Reader.TryRead(out var left))
            {
                left.Frame.Dispose();
            }
        }
    }

    private static void Pull(Channel<(AudioFrame Frame, long Start)> queue, AudioTrackBuffer buffer, long untilSample)
    {
        while (queue.Reader.TryPeek(out var next) && next.Start < untilSample && queue.Reader.TryRead(out next))
        {
            buffer.Add(next.Frame, next.Start);
        }
    }

    /// <summary>Waits until the tick ending at <paramref name="tickEnd"/> may be written; false when writing is over.</summary>
    private async Task<bool> WaitForTickAsync(TimeSpan tickStart, TimeSpan tickEnd)
    {
        var waitStart = _time.GetTimestamp();
        var frameDuration = tickEnd - tickStart;
        while (!_stopped)
        {
            var draining = _draining;
            var watermark = _timeline.Watermark(draining);
            if (watermark >= tickEnd)
            {
                return true;
            }

            if (draining)
            {
                // The last, partial tick is written whole: the file ends on the frame grid.
                return watermark > tickStart + TimeSpan.FromMilliseconds(1);
            }

            // Nothing arrives while the writer has caught up: an idle room. Go on in real time
            // (last picture, silence); frames that come back are placed by their timestamps.
            // Only a starving writer idles, so a busy encoder never makes media "late".
            if (_timeline.SinceLastArrival is { } quiet)
            {
                var waited = _time.GetElapsedTime(waitStart);
                if (quiet < waited)
                {
                    _idling = false;
                }

                if ((quiet < waited ? quiet : waited) >= (_idling ? frameDuration : _options.IdleAfter))
                {
                    _idling = true;
                    _timeline.AdvanceIdle(tickEnd + _options.JitterBuffer);
                    return true;
                }
            }

            await _signal.WaitAsync(TimeSpan.FromMilliseconds(10)).ConfigureAwait(false);
        }

        return false;
    }

    private async Task<bool> WriteTickAsync(ReadOnlyMemory<byte> picture, short[] audio, short[]? user)
    {
        while (true)
        {
            var encoder = _encoder;
            try
            {
                await encoder.WriteVideoAsync(picture, CancellationToken.None).ConfigureAwait(false);
                await encoder.WriteAudioAsync(0, audio, CancellationToken.None).ConfigureAwait(false);
                if (user is not null)
                {
                    await encoder.WriteAudioAsync(1, user, CancellationToken.None).ConfigureAwait(false);
                }

                return true;
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                if (!await RecoverAsync(encoder, ex).ConfigureAwait(false))
                {
                    return false;
                }
            }
        }
    }

    /// <summary>After a failed write: stop on an output error (disk full), else restart the encoder into a new segment.</summary>
    private async Task<bool> RecoverAsync(FfmpegEncoder failed, Exception error)
    {
        var at = _timeline.Written;
        var stderr = failed.StandardErrorTail;
        await failed.DisposeAsync().ConfigureAwait(false);
        lock (_gate)
        {
            _segments[^1] = _segments[^1] with { End = at };
        }

        if (_stopped)
        {
            return false;
        }

        if (failed.OutputFailure is { } output)
        {
            Stop(new RecordingException(
                $"Writing '{Path.GetFileName(failed.FilePath)}' failed at {at:hh\\:mm\\:ss\\.fff}: {output.Message} Recording stopped; the file is playable up to that point.",
                output));
            return false;
        }

        var detail = stderr.Length > 0 ? $" ffmpeg said: {stderr}" : string.Empty;
        if (_restarts >= _options.MaxEncoderRestarts)
        {
            Stop(new RecordingException($"The encoder (ffmpeg) failed {_restarts + 1} times; recording stopped at {at:hh\\:mm\\:ss\\.fff}.{detail}", error));
            return false;
        }

        _restarts++;
        var path = Path.Combine(_directory, $"{_fileStem}_part{(_restarts + 1).ToString(CultureInfo.InvariantCulture)}.mp4");
        try
        {
            _encoder = FfmpegEncoder.Start(_ffmpegPath, _options, path, OpenOutput, _logger);
        }
        catch (RecordingException ex)
        {
            Stop(ex);
            return false;
        }

        lock (_gate)
        {
            _segments.Add(new Segment(path, at));
        }

        var restarted = new RecordingException($"The encoder (ffmpeg) stopped unexpectedly at {at:hh\\:mm\\:ss\\.fff};{detail} recording goes on in '{Path.GetFileName(path)}'.", error);
        Log.EncoderRestarting(_logger, restarted, _request.SessionId, at, path);
        RaiseFailed(restarted, recordingStopped: false);
        return true;
    }

    private void Stop(Exception error)
    {
        _stopError = error;
        _stopped = true;
        Log.RecordingStopped(_logger, error, _request.SessionId, _timeline.Written);
        _sourcesCts.Cancel();
        Signal();
        RaiseFailed(error, recordingStopped: true);
    }

    private void RaiseFailed(Exception error, bool recordingStopped)
    {
        try
        {
            Failed?.Invoke(this, new RecordingErrorEventArgs(error, recordingStopped));
        }
#pragma warning disable CA1031 // A subscriber's exception must not stop the recorder.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.SourceFailed(_logger, ex, "Failed handler", _request.SessionId);
        }
    }

    private async Task RunClipWorkerAsync()
    {
        var token = _clipsCts.Token;
        try
        {
            await CutClipsAsync(token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException && token.IsCancellationRequested)
        {
            // Completion was cancelled (FFMpegCore reports a stopped ffmpeg as cancelled or failed): the running cut was stopped (its ffmpeg killed) and the rest are dropped,
            // so no clip process outlives the recording.
            lock (_gate)
            {
                if (_cutting is { } current)
                {
                    _uncutClips.Add(Uncut(current));
                }

                while (_clipQueue.Reader.TryRead(out var pending))
                {
                    _uncutClips.Add(Uncut(pending));
                }
            }

            Log.ClipsAbandoned(_logger, _request.SessionId, _uncutClips.Count);
        }
    }

    private SidecarUncutClip Uncut(PendingClip clip)
    {
        var (start, end) = Range(clip);
        return new(start.TotalSeconds, end.TotalSeconds, clip.Text, clip.WallStart);
    }

    /// <summary>The clip's range in session media time: the answer with pre- and post-roll.</summary>
    private (TimeSpan Start, TimeSpan End) Range(PendingClip clip)
    {
        var start = clip.Start - _options.ClipPreRoll;
        return (start < TimeSpan.Zero ? TimeSpan.Zero : start, clip.End + _options.ClipPostRoll);
    }

    private async Task CutClipsAsync(CancellationToken cancellationToken)
    {
        await foreach (var clip in _clipQueue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            // Still set if cutting it is cancelled: then it is listed as not cut.
            _cutting = clip;
            await CutClipAsync(clip, cancellationToken).ConfigureAwait(false);
            _cutting = null;
        }
    }

    private async Task CutClipAsync(PendingClip clip, CancellationToken cancellationToken)
    {
        var (start, end) = Range(clip);

        // The fragment holding the clip's end must be complete on disk before cutting.
        while (!_encoderClosed && _timeline.Written < end + FragmentMargin)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), _time, cancellationToken).ConfigureAwait(false);
        }

        var written = _timeline.Written;
        SegmentSpan[] segments;
        lock (_gate)
        {
            segments = [.. _segments.Select(s => new SegmentSpan(s.File, s.Start, s.End ?? written))];
        }

        CutClip? cut;
        try
        {
            cut = await ClipCutter.CutRangeAsync(_ffmpegPath, segments, start, end, _directory, clip.WallStart, _options, cancellationToken).ConfigureAwait(false);
        }
        catch (RecordingException ex)
        {
            Log.ClipFailed(_logger, ex, _request.SessionId);
            RaiseFailed(ex, recordingStopped: false);
            return;
        }

        if (cut is null)
        {
            return;
        }

        lock (_gate)
        {
            _clips.Add(cut.ToRecordedClip(clip.Text));
            _sidecarClips.Add(SidecarClip.From(cut, clip.Text, _transcript));
            _cutting = null;
        }
    }

    private async Task<SessionRecordingResult> CompleteCoreAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        if (_request.Avatar is { } avatar)
        {
            avatar.SpeakingStarted -= OnSpeakingStarted;
            avatar.SpeakingEnded -= OnSpeakingEnded;
        }

        EndClip();

        // Stop reading first, so that the end of the timeline is final, then write what was received.
        await _sourcesCts.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_sources).ConfigureAwait(false);
        _draining = true;
        Signal();
        using (cancellationToken.Register(() =>
        {
            _stopped = true;
            _encoder.Kill();
            Signal();
        }))
        {
            await _tickLoop.ConfigureAwait(false);
            if (!_stopped)
            {
                await _encoder.CloseAsync(CloseTimeout, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _encoder.DisposeAsync().ConfigureAwait(false);
            }
        }

        var duration = _timeline.Written;
        lock (_gate)
        {
            _segments[^1] = _segments[^1] with { End = _segments[^1].End ?? duration };
        }

        _encoderClosed = true;
        _clipQueue.Writer.TryComplete();
        using (cancellationToken.Register(_clipsCts.Cancel))
        {
            // Ends promptly when cancelled: the running cut is stopped and the pending ones dropped.
            await _clipWorker.ConfigureAwait(false);
        }

        // Written even when cancelled (it is small): the session file and the clips cut so far stay described.
        var sidecar = await WriteSidecarAsync(duration, CancellationToken.None).ConfigureAwait(false);
        _signal.Dispose();
        _sourcesCts.Dispose();
        _clipsCts.Dispose();
        cancellationToken.ThrowIfCancellationRequested();
        Log.RecordingCompleted(_logger, _request.SessionId, duration, _clips.Count, DroppedVideoFrames);
        return new SessionRecordingResult(SessionFilePath, sidecar, duration, Clips, DroppedVideoFrames);
    }

    private async Task<string?> WriteSidecarAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        SessionSidecar sidecar;
        lock (_gate)
        {
            sidecar = new SessionSidecar(
                _request.SessionId,
                _startedAt,
                duration.TotalSeconds,
                DroppedVideoFrames,
                [.. _segments.Select(s => new SidecarSegment(Path.GetFileName(s.File), s.Start.TotalSeconds, (s.End ?? duration).TotalSeconds))],
                [.. _sidecarClips],
                [.. _transcript],
                _stopError?.Message,
                _uncutClips.Count > 0 ? [.. _uncutClips] : null);
        }

        try
        {
            await sidecar.WriteAsync(SidecarPath, cancellationToken).ConfigureAwait(false);
            return SidecarPath;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Typically the same full disk that stopped the recording; the media files stay as they are.
            Log.SidecarFailed(_logger, ex, SidecarPath);
            return null;
        }
    }

    private sealed record Segment(string File, TimeSpan Start, TimeSpan? End = null);

    private sealed record PendingClip(TimeSpan Start, TimeSpan End, string? Text, DateTimeOffset WallStart);
}
