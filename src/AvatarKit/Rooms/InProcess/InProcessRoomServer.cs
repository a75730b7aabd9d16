using System.Collections.Concurrent;

namespace AvatarKit;

/// <summary>
/// Rooms that live inside this process: participants, tracks, frames and data behave as in a
/// real-time room, with no network. Used by the offline sandbox, by emulators and by tests.
/// </summary>
/// <remarks>
/// URLs have the form <c>inproc://&lt;room&gt;</c> and the token is the participant's identity.
/// Media written to a local track is copied to every subscriber; slow subscribers lose their
/// oldest frames (counted), writers are never blocked. Thread-safe.
/// </remarks>
public sealed class InProcessRoomServer : IRealtimeRoomConnector
{
    /// <summary>The URL scheme of in-process rooms.</summary>
    public const string UriScheme = "inproc";

    private readonly ConcurrentDictionary<string, InProcessRoom> _rooms = new(StringComparer.Ordinal);

    /// <summary>Gets the names of the rooms that have participants.</summary>
    public IReadOnlyCollection<string> RoomNames => _rooms.Where(r => !r.Value.IsEmpty).Select(r => r.Key).ToArray();

    /// <summary>Gets the URL of a room on this server.</summary>
    /// <param name="roomName">The room's name.</param>
    /// <returns>An <c>inproc://</c> URL.</returns>
    public static Uri GetRoomUrl(string roomName) => new($"{UriScheme}://{Uri.EscapeDataString(Throw.IfNullOrWhiteSpace(roomName))}");

    /// <inheritdoc />
    /// <remarks><paramref name="token"/> is the identity to join as.</remarks>
    public Task<IRealtimeRoom> ConnectAsync(Uri url, string token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!string.Equals(url.Scheme, UriScheme, StringComparison.OrdinalIgnoreCase) || string.IsNullOrEmpty(url.Host))
        {
            throw new RoomConnectionException($"'{url}' is not an in-process room URL; expected {UriScheme}://<room>.");
        }

        return JoinAsync(Uri.UnescapeDataString(url.Host), token, cancellationToken);
    }

    /// <summary>Joins a room, creating it if needed.</summary>
    /// <param name="roomName">The room's name.</param>
    /// <param name="identity">The identity to join as; unique in the room.</param>
    /// <param name="cancellationToken">Cancels joining.</param>
    /// <returns>The connected room.</returns>
    /// <exception cref="RoomConnectionException">The identity is already in the room.</exception>
    public Task<IRealtimeRoom> JoinAsync(string roomName, string identity, CancellationToken cancellationToken = default)
    {
        Throw.IfNullOrWhiteSpace(roomName);
        if (string.IsNullOrWhiteSpace(identity))
        {
            throw new RoomConnectionException("The token (the participant identity for in-process rooms) is empty.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        var room = _rooms.GetOrAdd(roomName, name => new InProcessRoom(name));
        return Task.FromResult<IRealtimeRoom>(room.Join(identity));
    }

    /// <summary>Disconnects a participant from the server side, as a real server would on kick or shutdown.</summary>
    /// <param name="roomName">The room.</param>
    /// <param name="identity">The participant.</param>
    /// <param name="reason">The reason reported to the participant.</param>
    /// <returns><see langword="true"/> when the participant was in the room.</returns>
    public bool DisconnectParticipant(string roomName, string identity, string reason = "removed by server") =>
        _rooms.TryGetValue(roomName, out var room) && room.Remove(identity, reason);
}
