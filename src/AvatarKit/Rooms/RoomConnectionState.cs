namespace AvatarKit;

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
