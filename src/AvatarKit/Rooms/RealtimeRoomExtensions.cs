using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace AvatarKit;

/// <summary>Conveniences over <see cref="IRealtimeRoom"/>.</summary>
public static class RealtimeRoomExtensions
{
    /// <summary>Reads data messages, optionally only those of one topic, until cancelled or disconnected.</summary>
    /// <param name="room">The room.</param>
    /// <param name="topic">The topic to keep; every message when null.</param>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <returns>The messages, in arrival order.</returns>
    public static async IAsyncEnumerable<RoomDataPacket> ReadDataAsync(
        this IRealtimeRoom room, string? topic = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(room);
        var channel = Channel.CreateBounded<RoomDataPacket>(new BoundedChannelOptions(1024)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });

        void OnData(object? sender, RoomDataEventArgs e)
        {
            if (topic is null || string.Equals(topic, e.Packet.Topic, StringComparison.Ordinal))
            {
                channel.Writer.TryWrite(e.Packet);
            }
        }

        void OnState(object? sender, RoomConnectionStateEventArgs e)
        {
            if (e.State == RoomConnectionState.Disconnected)
            {
                channel.Writer.TryComplete();
            }
        }

        room.DataReceived += OnData;
        room.ConnectionStateChanged += OnState;
        try
        {
            if (room.State == RoomConnectionState.Disconnected)
            {
                yield break;
            }

            await foreach (var packet in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return packet;
            }
        }
        finally
        {
            room.DataReceived -= OnData;
            room.ConnectionStateChanged -= OnState;
        }
    }

    /// <summary>Waits until a participant with <paramref name="identity"/> publishes a track of <paramref name="kind"/>.</summary>
    /// <param name="room">The room.</param>
    /// <param name="identity">The participant's identity.</param>
    /// <param name="kind">Audio or video.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The track.</returns>
    public static async Task<RoomTrack> WaitForTrackAsync(this IRealtimeRoom room, string identity, RoomTrackKind kind, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(room);
        var found = new TaskCompletionSource<RoomTrack>(TaskCreationOptions.RunContinuationsAsynchronously);

        void OnTrack(object? sender, RoomTrackEventArgs e)
        {
            if (e.Track.Kind == kind && e.Track.ParticipantIdentity == identity)
            {
                found.TrySetResult(e.Track);
            }
        }

        room.TrackSubscribed += OnTrack;
        try
        {
            var existing = room.RemoteParticipants.FirstOrDefault(p => p.Identity == identity)?.Tracks.FirstOrDefault(t => t.Kind == kind);
            if (existing is not null)
            {
                return existing;
            }

            return await found.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            room.TrackSubscribed -= OnTrack;
        }
    }
}
