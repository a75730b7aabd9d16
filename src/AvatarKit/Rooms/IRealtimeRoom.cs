namespace AvatarKit;

/// <summary>
/// A connection to a real-time media room (LiveKit, or the in-process room): participants, their
/// tracks, per-track frame streams, and data messages by topic.
/// </summary>
/// <remarks>
/// Events are raised on a background thread and must not block. Frame streams are bounded:
/// when a reader falls behind, the oldest video frames are dropped (never unbounded memory);
/// every frame a stream yields is owned by the reader, who disposes it.
/// </remarks>
public interface IRealtimeRoom : IAsyncDisposable
{
    /// <summary>Gets the room's name.</summary>
    string Name { get; }

    /// <summary>Gets this connection's participant identity.</summary>
    string LocalIdentity { get; }

    /// <summary>Gets the connection state.</summary>
    RoomConnectionState State { get; }

    /// <summary>Gets the other participants currently in the room.</summary>
    IReadOnlyList<RoomParticipant> RemoteParticipants { get; }

    /// <summary>Raised when a remote participant joins.</summary>
    event EventHandler<RoomParticipantEventArgs>? ParticipantJoined;

    /// <summary>Raised when a remote participant leaves.</summary>
    event EventHandler<RoomParticipantEventArgs>? ParticipantLeft;

    /// <summary>Raised when a remote participant publishes a track.</summary>
    event EventHandler<RoomTrackEventArgs>? TrackPublished;

    /// <summary>Raised when a remote track can be read (subscribed).</summary>
    event EventHandler<RoomTrackEventArgs>? TrackSubscribed;

    /// <summary>Raised when a remote track stops (unpublished or unsubscribed).</summary>
    event EventHandler<RoomTrackEventArgs>? TrackUnsubscribed;

    /// <summary>Raised when a data message arrives.</summary>
    event EventHandler<RoomDataEventArgs>? DataReceived;

    /// <summary>Raised when the connection state changes.</summary>
    event EventHandler<RoomConnectionStateEventArgs>? ConnectionStateChanged;

    /// <summary>Reads a remote video track frame by frame until it ends or the room disconnects.</summary>
    /// <param name="track">A subscribed video track.</param>
    /// <param name="pixelFormat">The layout to deliver frames in.</param>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <returns>The frames, in order; the reader owns and disposes each.</returns>
    IAsyncEnumerable<VideoFrame> ReadVideoAsync(RoomTrack track, VideoPixelFormat pixelFormat = VideoPixelFormat.I420, CancellationToken cancellationToken = default);

    /// <summary>Reads a remote audio track until it ends or the room disconnects.</summary>
    /// <param name="track">A subscribed audio track.</param>
    /// <param name="format">The format to deliver audio in (resampled if needed).</param>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <returns>The frames, in order; the reader owns and disposes each.</returns>
    IAsyncEnumerable<AudioFrame> ReadAudioAsync(RoomTrack track, AudioFormat format, CancellationToken cancellationToken = default);

    /// <summary>Publishes a data message.</summary>
    /// <param name="payload">The bytes to send.</param>
    /// <param name="options">Topic, reliability and destinations; reliable to everyone when null.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the message was handed to the transport.</returns>
    Task PublishDataAsync(ReadOnlyMemory<byte> payload, RoomDataOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Publishes a local audio track that the caller feeds with PCM16 frames.</summary>
    /// <param name="name">The track's name.</param>
    /// <param name="format">The format of the frames that will be written.</param>
    /// <param name="cancellationToken">Cancels publishing.</param>
    /// <returns>The published track; dispose it to unpublish.</returns>
    Task<ILocalAudioTrack> PublishAudioAsync(string name, AudioFormat format, CancellationToken cancellationToken = default);

    /// <summary>Publishes a local video track that the caller feeds with frames.</summary>
    /// <param name="name">The track's name.</param>
    /// <param name="width">Frame width in pixels.</param>
    /// <param name="height">Frame height in pixels.</param>
    /// <param name="cancellationToken">Cancels publishing.</param>
    /// <returns>The published track; dispose it to unpublish.</returns>
    /// <exception cref="NotSupportedException">The room implementation cannot publish video.</exception>
    Task<ILocalVideoTrack> PublishVideoAsync(string name, int width, int height, CancellationToken cancellationToken = default);

    /// <summary>Leaves the room. Safe to call more than once.</summary>
    /// <param name="cancellationToken">Cancels waiting for the server's acknowledgement.</param>
    /// <returns>A task that completes when the room is left.</returns>
    Task DisconnectAsync(CancellationToken cancellationToken = default);
}

/// <summary>A local audio track published into a room.</summary>
public interface ILocalAudioTrack : IAsyncDisposable
{
    /// <summary>Gets the published track.</summary>
    RoomTrack Track { get; }

    /// <summary>Gets the format frames must have.</summary>
    AudioFormat Format { get; }

    /// <summary>Sends a frame. The caller keeps ownership of <paramref name="frame"/>; it is copied before this returns.</summary>
    /// <param name="frame">Audio in <see cref="Format"/>.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the frame was accepted (this is where backpressure applies).</returns>
    ValueTask WriteAsync(AudioFrame frame, CancellationToken cancellationToken = default);
}

/// <summary>A local video track published into a room.</summary>
public interface ILocalVideoTrack : IAsyncDisposable
{
    /// <summary>Gets the published track.</summary>
    RoomTrack Track { get; }

    /// <summary>Sends a frame. The caller keeps ownership of <paramref name="frame"/>; it is copied before this returns.</summary>
    /// <param name="frame">A frame of the track's size.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the frame was accepted.</returns>
    ValueTask WriteAsync(VideoFrame frame, CancellationToken cancellationToken = default);
}

/// <summary>Connects to real-time rooms; one implementation per transport (LiveKit, in-process).</summary>
public interface IRealtimeRoomConnector
{
    /// <summary>Joins the room at <paramref name="url"/> with an access token.</summary>
    /// <param name="url">The server URL (e.g. <c>wss://…livekit.cloud</c>, or <c>inproc://room</c>).</param>
    /// <param name="token">The access token that names the room and the identity.</param>
    /// <param name="cancellationToken">Cancels connecting.</param>
    /// <returns>The connected room.</returns>
    /// <exception cref="RoomConnectionException">The server refused the token or could not be reached.</exception>
    Task<IRealtimeRoom> ConnectAsync(Uri url, string token, CancellationToken cancellationToken = default);
}

/// <summary>Thrown when a room cannot be joined or the connection fails.</summary>
public class RoomConnectionException : Exception
{
    /// <summary>Initializes a new instance.</summary>
    public RoomConnectionException()
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    public RoomConnectionException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the cause.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public RoomConnectionException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
