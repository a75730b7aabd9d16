namespace AvatarKit;

/// <summary>A participant of a room as last seen; a snapshot, not a live object.</summary>
/// <param name="Identity">The participant's unique identity in the room (e.g. <c>heygen</c> for the avatar).</param>
/// <param name="Name">The display name, if any.</param>
/// <param name="Tracks">The tracks the participant publishes.</param>
public sealed record RoomParticipant(string Identity, string? Name, IReadOnlyList<RoomTrack> Tracks)
{
    /// <summary>Gets the participant's metadata string, if any.</summary>
    public string? Metadata { get; init; }
}
