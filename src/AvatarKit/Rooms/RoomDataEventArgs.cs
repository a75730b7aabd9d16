namespace AvatarKit;

/// <summary>Arguments of <see cref="IRealtimeRoom.DataReceived"/>.</summary>
/// <param name="packet">The packet.</param>
public sealed class RoomDataEventArgs(RoomDataPacket packet) : EventArgs
{
    /// <summary>Gets the packet.</summary>
    public RoomDataPacket Packet { get; } = packet;
}
