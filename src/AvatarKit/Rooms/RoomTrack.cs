namespace AvatarKit;

/// <summary>A track published in a room by a participant.</summary>
/// <param name="Sid">The server's id of the track.</param>
/// <param name="Name">The publisher's name for the track.</param>
/// <param name="Kind">Audio or video.</param>
/// <param name="ParticipantIdentity">The identity of the participant who published it.</param>
public sealed record RoomTrack(string Sid, string Name, RoomTrackKind Kind, string ParticipantIdentity);
