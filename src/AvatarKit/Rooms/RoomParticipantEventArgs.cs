namespace AvatarKit;

/// <summary>Arguments of participant events.</summary>
/// <param name="participant">The participant.</param>
public sealed class RoomParticipantEventArgs(RoomParticipant participant) : EventArgs
{
    /// <summary>Gets the participant.</summary>
    public RoomParticipant Participant { get; } = participant;
}
