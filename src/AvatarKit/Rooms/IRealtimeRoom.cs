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
