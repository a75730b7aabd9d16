namespace AvatarKit;

/// <summary>Records avatar sessions to files: the whole session and one clip per avatar answer.</summary>
public interface ISessionRecorder
{
    /// <summary>Starts recording a session.</summary>
    /// <param name="request">What to record.</param>
    /// <param name="cancellationToken">Cancels starting.</param>
    /// <returns>The running recording; complete or dispose it to finalize the files.</returns>
    /// <exception cref="RecordingException">The recorder cannot start (encoder missing, output not writable).</exception>
    Task<ISessionRecording> StartAsync(SessionRecordingRequest request, CancellationToken cancellationToken = default);
}

/// <summary>What <see cref="ISessionRecorder.StartAsync"/> records.</summary>
public sealed class SessionRecordingRequest
{
    /// <summary>Gets the session id, used in file names (<c>session_&lt;id&gt;.mp4</c>).</summary>
    public required string SessionId { get; init; }

    /// <summary>Gets the room whose participant's tracks are recorded.</summary>
    public IRealtimeRoom? Room { get; init; }

    /// <summary>Gets the identity whose tracks are recorded; the avatar's when <see cref="Avatar"/> is set.</summary>
    public string? ParticipantIdentity { get; init; }

    /// <summary>Gets the avatar session whose speaking events cut per-answer clips (and whose room is recorded when <see cref="Room"/> is null).</summary>
    public IAvatarSession? Avatar { get; init; }

    /// <summary>Gets a video source to record instead of a room track.</summary>
    public IAsyncEnumerable<VideoFrame>? Video { get; init; }

    /// <summary>Gets an audio source to record instead of a room track.</summary>
    public IAsyncEnumerable<AudioFrame>? Audio { get; init; }
}

/// <summary>A recording in progress.</summary>
public interface ISessionRecording : IAsyncDisposable
{
    /// <summary>Gets the path of the whole-session file.</summary>
    string SessionFilePath { get; }

    /// <summary>Gets the clips cut so far.</summary>
    IReadOnlyList<RecordedClip> Clips { get; }

    /// <summary>Gets how many video frames were dropped because the encoder fell behind.</summary>
    long DroppedVideoFrames { get; }

    /// <summary>Raised when recording fails (disk full, encoder crash); the conversation goes on.</summary>
    event EventHandler<RecordingErrorEventArgs>? Failed;

    /// <summary>Adds the user's microphone audio to the recording. The caller keeps ownership of the frame.</summary>
    /// <param name="frame">Microphone audio.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the frame was queued.</returns>
    ValueTask WriteUserAudioAsync(AudioFrame frame, CancellationToken cancellationToken = default);

    /// <summary>Starts a clip now (when clips are not cut from an avatar's speaking events).</summary>
    /// <param name="text">What the clip is about, e.g. the answer's text.</param>
    void BeginClip(string? text = null);

    /// <summary>Ends the current clip now.</summary>
    void EndClip();

    /// <summary>Adds a line to the session's transcript (kept in the sidecar file).</summary>
    /// <param name="speaker">Who spoke, e.g. <c>user</c> or <c>avatar</c>.</param>
    /// <param name="text">What was said.</param>
    void AddTranscript(string speaker, string text);

    /// <summary>Stops recording and finalizes every file.</summary>
    /// <param name="cancellationToken">Cancels waiting for finalization (files stay playable).</param>
    /// <returns>What was written.</returns>
    Task<SessionRecordingResult> CompleteAsync(CancellationToken cancellationToken = default);
}

/// <summary>A per-answer clip.</summary>
/// <param name="FilePath">The clip file.</param>
/// <param name="Start">Start within the session recording.</param>
/// <param name="End">End within the session recording.</param>
/// <param name="Text">What the avatar said in it, when known.</param>
public sealed record RecordedClip(string FilePath, TimeSpan Start, TimeSpan End, string? Text);

/// <summary>The files a finished recording wrote.</summary>
/// <param name="SessionFilePath">The whole-session file.</param>
/// <param name="SidecarFilePath">The JSON sidecar listing clips and transcript.</param>
/// <param name="Duration">The session file's duration.</param>
/// <param name="Clips">The clips.</param>
/// <param name="DroppedVideoFrames">Video frames dropped because the encoder fell behind.</param>
public sealed record SessionRecordingResult(string SessionFilePath, string? SidecarFilePath, TimeSpan Duration, IReadOnlyList<RecordedClip> Clips, long DroppedVideoFrames);

/// <summary>Arguments of <see cref="ISessionRecording.Failed"/>.</summary>
/// <param name="exception">What failed.</param>
/// <param name="recordingStopped">Whether recording stopped (true) or recovered into a new segment (false).</param>
public sealed class RecordingErrorEventArgs(Exception exception, bool recordingStopped) : EventArgs
{
    /// <summary>Gets what failed.</summary>
    public Exception Exception { get; } = exception;

    /// <summary>Gets a value indicating whether recording stopped rather than recovered.</summary>
    public bool RecordingStopped { get; } = recordingStopped;
}

/// <summary>Thrown when recording cannot start or continue.</summary>
public class RecordingException : Exception
{
    /// <summary>Initializes a new instance.</summary>
    public RecordingException()
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    public RecordingException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the cause.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public RecordingException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
