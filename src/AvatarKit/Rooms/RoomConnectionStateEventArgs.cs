namespace AvatarKit;

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
