using System.Text;

namespace AvatarKit.Testing;

/// <summary>
/// A participant that joins a room and publishes known media, as an avatar would: the bar
/// pattern as video, the tone as audio, and an echo of every data message it receives
/// (payload prefixed with <c>echo:</c>, topic kept, sent back to the sender).
/// </summary>
public sealed class EmulatedLiveKitParticipant : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _pumps = [];
    private readonly List<IAsyncDisposable> _tracks = [];

    private EmulatedLiveKitParticipant(IRealtimeRoom room)
    {
        Room = room;
    }

    /// <summary>Gets the participant's room connection.</summary>
    public IRealtimeRoom Room { get; }

    /// <summary>Gets how many video frames were sent.</summary>
    public long VideoFramesSent => Interlocked.Read(ref _videoFramesSent);

    private long _videoFramesSent;

    /// <summary>Joins and starts publishing.</summary>
    /// <param name="connector">The connector to join with.</param>
    /// <param name="grant">The URL and token.</param>
    /// <param name="width">Video width.</param>
    /// <param name="height">Video height.</param>
    /// <param name="framesPerSecond">Video frame rate.</param>
    /// <param name="cancellationToken">Cancels joining.</param>
    /// <returns>The participant; dispose it to leave.</returns>
    public static async Task<EmulatedLiveKitParticipant> JoinAsync(
        IRealtimeRoomConnector connector, EmulatorRoomGrant grant, int width = 320, int height = 240, int framesPerSecond = 30, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(grant);
        var room = await connector.ConnectAsync(grant.Url, grant.Token, cancellationToken).ConfigureAwait(false);
        var participant = new EmulatedLiveKitParticipant(room);
        try
        {
            room.DataReceived += participant.OnData;
            var video = await room.PublishVideoAsync("video", width, height, cancellationToken).ConfigureAwait(false);
            participant._tracks.Add(video);
            var audio = await room.PublishAudioAsync("audio", AudioFormat.Pcm16Mono48kHz, cancellationToken).ConfigureAwait(false);
            participant._tracks.Add(audio);
            participant._pumps.Add(Task.Run(() => participant.PumpVideoAsync(video, width, height, framesPerSecond), CancellationToken.None));
            participant._pumps.Add(Task.Run(() => participant.PumpAudioAsync(audio), CancellationToken.None));
            return participant;
        }
        catch
        {
            await participant.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Room.DataReceived -= OnData;
        await _stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(_pumps).ConfigureAwait(false);
        foreach (var track in _tracks)
        {
            await track.DisposeAsync().ConfigureAwait(false);
        }

        await Room.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private void OnData(object? sender, RoomDataEventArgs e)
    {
        if (e.Packet.SenderIdentity is not { } from)
        {
            return;
        }

        var echo = Encoding.UTF8.GetBytes("echo:" + Encoding.UTF8.GetString(e.Packet.Payload.Span));
        _ = Room.PublishDataAsync(echo, new RoomDataOptions { Topic = e.Packet.Topic, DestinationIdentities = [from] }, _stop.Token)
            .ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
    }

    private async Task PumpVideoAsync(ILocalVideoTrack track, int width, int height, int framesPerSecond)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / framesPerSecond));
        var index = 0L;
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                using var frame = LiveKitTestMedia.CreateBarsFrame(width, height, TimeSpan.FromSeconds((double)index++ / framesPerSecond));
                await track.WriteAsync(frame, _stop.Token).ConfigureAwait(false);
                Interlocked.Increment(ref _videoFramesSent);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // Stopped, or the room went away.
        }
    }

    private async Task PumpAudioAsync(ILocalAudioTrack track)
    {
        var format = track.Format;
        var samplesPer10Ms = format.SampleRate / 100;
        var sent = 0L;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                using var frame = LiveKitTestMedia.CreateToneFrame(format, sent, samplesPer10Ms);
                await track.WriteAsync(frame, _stop.Token).ConfigureAwait(false); // paced by the native queue
                sent += samplesPer10Ms;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or InvalidOperationException or LiveKit.LiveKitException)
        {
            // Stopped, or the room went away.
        }
    }
}
