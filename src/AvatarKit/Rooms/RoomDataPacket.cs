namespace AvatarKit;

/// <summary>A data message received from a room.</summary>
/// <param name="Payload">The bytes sent.</param>
/// <param name="Topic">The topic the sender gave, if any.</param>
/// <param name="SenderIdentity">The sender, or <see langword="null"/> when the server sent it.</param>
public sealed record RoomDataPacket(ReadOnlyMemory<byte> Payload, string? Topic, string? SenderIdentity);
