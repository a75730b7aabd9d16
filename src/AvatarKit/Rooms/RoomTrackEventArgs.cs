namespace AvatarKit;

/// <summary>Arguments of track events.</summary>
/// <param name="track">The track.</param>
public sealed class RoomTrackEventArgs(RoomTrack track) : EventArgs
{
    /// <summary>Gets the track.</summary>
    public RoomTrack Track { get; } = track;
}
