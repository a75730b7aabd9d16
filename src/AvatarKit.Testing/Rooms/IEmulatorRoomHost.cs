namespace AvatarKit.Testing;

/// <summary>
/// Where emulators put the rooms of the sessions they start: the in-process room server, or a
/// fake LiveKit server reached over real WebRTC. An emulator asks for one grant for its emulated
/// avatar and hands another to the client, as the real providers return a room URL and token.
/// </summary>
public interface IEmulatorRoomHost
{
    /// <summary>Gets the connector the emulated avatar joins rooms with.</summary>
    IRealtimeRoomConnector Connector { get; }

    /// <summary>Creates the URL and access token with which <paramref name="identity"/> joins <paramref name="roomName"/>.</summary>
    /// <param name="roomName">The room.</param>
    /// <param name="identity">The participant identity the token grants.</param>
    /// <returns>The URL and token.</returns>
    EmulatorRoomGrant CreateGrant(string roomName, string identity);
}

/// <summary>A room URL and an access token for it.</summary>
/// <param name="Url">The server URL.</param>
/// <param name="Token">The access token.</param>
public sealed record EmulatorRoomGrant(Uri Url, string Token);

/// <summary>Hosts emulated rooms in an <see cref="InProcessRoomServer"/>.</summary>
/// <param name="server">The in-process server; clients must connect through the same instance.</param>
public sealed class InProcessRoomHost(InProcessRoomServer server) : IEmulatorRoomHost
{
    /// <inheritdoc />
    public IRealtimeRoomConnector Connector { get; } = server ?? throw new ArgumentNullException(nameof(server));

    /// <inheritdoc />
    public EmulatorRoomGrant CreateGrant(string roomName, string identity) =>
        new(InProcessRoomServer.GetRoomUrl(roomName), identity);
}
