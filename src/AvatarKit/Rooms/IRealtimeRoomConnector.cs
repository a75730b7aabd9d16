namespace AvatarKit;

/// <summary>Connects to real-time rooms; one implementation per transport (LiveKit, in-process).</summary>
public interface IRealtimeRoomConnector
{
    /// <summary>Joins the room at <paramref name="url"/> with an access token.</summary>
    /// <param name="url">The server URL (e.g. <c>wss://…livekit.cloud</c>, or <c>inproc://room</c>).</param>
    /// <param name="token">The access token that names the room and the identity.</param>
    /// <param name="cancellationToken">Cancels connecting.</param>
    /// <returns>The connected room.</returns>
    /// <exception cref="RoomConnectionException">The server refused the token or could not be reached.</exception>
    Task<IRealtimeRoom> ConnectAsync(Uri url, string token, CancellationToken cancellationToken = default);
}
