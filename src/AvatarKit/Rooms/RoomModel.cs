namespace AvatarKit;

/// <summary>The kind of media a room track carries.</summary>
public enum RoomTrackKind
{
    /// <summary>Audio.</summary>
    Audio,

    /// <summary>Video.</summary>
    Video,
}

/// <summary>The connection state of an <see cref="IRealtimeRoom"/>.</summary>
public enum RoomConnectionState
{
    /// <summary>Not connected yet, or disconnected for good.</summary>
    Disconnected,

    /// <summary>Connecting for the first time.</summary>
    Connecting,

    /// <summary>Connected; media and data flow.</summary>
    Connected,

    /// <summary>The connection was lost and is being re-established.</summary>
    Reconnecting,
}

/// <summary>A track published in a room by a participant.</summary>
/// <param name="Sid">The server's id of the track.</param>
/// <param name="Name">The publisher's name for the track.</param>
/// <param name="Kind">Audio or video.</param>
/// <param name="ParticipantIdentity">The identity of the participant who published it.</param>
public sealed record RoomTrack(string Sid, string Name, RoomTrackKind Kind, string ParticipantIdentity);

/// <summary>A participant of a room as last seen; a snapshot, not a live object.</summary>
/// <param name="Identity">The participant's unique identity in the room (e.g. <c>heygen</c> for the avatar).</param>
/// <param name="Name">The display name, if any.</param>
/// <param name="Tracks">The tracks the participant publishes.</param>
public sealed record RoomParticipant(string Identity, string? Name, IReadOnlyList<RoomTrack> Tracks)
{
    /// <summary>Gets the participant's metadata string, if any.</summary>
    public string? Metadata { get; init; }
}

/// <summary>A data message received from a room.</summary>
/// <param name="Payload">The bytes sent.</param>
/// <param name="Topic">The topic the sender gave, if any.</param>
/// <param name="SenderIdentity">The sender, or <see langword="null"/> when the server sent it.</param>
public sealed record RoomDataPacket(ReadOnlyMemory<byte> Payload, string? Topic, string? SenderIdentity);

/// <summary>How to publish a data message.</summary>
public sealed class RoomDataOptions
{
    /// <summary>Gets or sets the topic receivers filter on.</summary>
    public string? Topic { get; set; }

    /// <summary>Gets or sets a value indicating whether delivery is reliable and ordered (default) rather than lossy.</summary>
    public bool Reliable { get; set; } = true;

    /// <summary>Gets or sets the identities to deliver to; every other participant when null or empty.</summary>
    public IReadOnlyList<string>? DestinationIdentities { get; set; }
}

/// <summary>Arguments of participant events.</summary>
/// <param name="participant">The participant.</param>
public sealed class RoomParticipantEventArgs(RoomParticipant participant) : EventArgs
{
    /// <summary>Gets the participant.</summary>
    public RoomParticipant Participant { get; } = participant;
}

/// <summary>Arguments of track events.</summary>
/// <param name="track">The track.</param>
public sealed class RoomTrackEventArgs(RoomTrack track) : EventArgs
{
    /// <summary>Gets the track.</summary>
    public RoomTrack Track { get; } = track;
}

/// <summary>Arguments of <see cref="IRealtimeRoom.DataReceived"/>.</summary>
/// <param name="packet">The packet.</param>
public sealed class RoomDataEventArgs(RoomDataPacket packet) : EventArgs
{
    /// <summary>Gets the packet.</summary>
    public RoomDataPacket Packet { get; } = packet;
}

/// <summary>Arguments of <see cref="IRealtimeRoom.ConnectionStateChanged"/>.</summary>
/// <param name="state">The new state.</param>
/// <param name="reason">Why it changed, when known (e.g. the server's disconnect reason).</param>
public sealed class RoomConnectionStateEventArgs(RoomConnectionState state, string? reason = null) : EventArgs
{
    /// <summary>Gets the new state.</summary>
    public RoomConnectionState State { get; } = state;

    /// <summary>Gets why the state changed, when known.</summary>
    public string? Reason { get; } = reason;
}
