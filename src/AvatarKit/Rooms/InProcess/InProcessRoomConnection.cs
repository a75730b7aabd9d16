using System.Runtime.CompilerServices;

namespace AvatarKit;

/// <summary>One participant's connection to an <see cref="InProcessRoom"/>.</summary>
internal sealed class InProcessRoomConnection : IRealtimeRoom
{
    private readonly InProcessRoom _room;
    private readonly Lock _gate = new();
    private readonly List<InProcessLocalTrack> _published = [];
    private readonly Dictionary<string, RoomParticipant> _remote = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disconnected = new();
    private RoomConnectionState _state = RoomConnectionState.Connected;

    public InProcessRoomConnection(InProcessRoom room, string identity)
    {
        _room = room;
        LocalIdentity = identity;
        foreach (var other in room.Others(this))
        {
            var snapshot = other.Snapshot();
            _remote[snapshot.Identity] = snapshot;
        }
    }

    public event EventHandler<RoomParticipantEventArgs>? ParticipantJoined;

    public event EventHandler<RoomParticipantEventArgs>? ParticipantLeft;

    public event EventHandler<RoomTrackEventArgs>? TrackPublished;

    public event EventHandler<RoomTrackEventArgs>? TrackSubscribed;

    public event EventHandler<RoomTrackEventArgs>? TrackUnsubscribed;

    public event EventHandler<RoomDataEventArgs>? DataReceived;

    public event EventHandler<RoomConnectionStateEventArgs>? ConnectionStateChanged;

    public string Name => _room.Name;

    public string LocalIdentity { get; }

    public RoomConnectionState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    public IReadOnlyList<RoomParticipant> RemoteParticipants
    {
        get
        {
            lock (_gate)
            {
                return [.. _remote.Values];
            }
        }
    }

    public IAsyncEnumerable<VideoFrame> ReadVideoAsync(RoomTrack track, VideoPixelFormat pixelFormat = VideoPixelFormat.I420, CancellationToken cancellationToken = default)
    {
        var source = Resolve(track, RoomTrackKind.Video);
        return Read(source, source.SubscribeVideo(pixelFormat), cancellationToken);
    }

    public IAsyncEnumerable<AudioFrame> ReadAudioAsync(RoomTrack track, AudioFormat format, CancellationToken cancellationToken = default)
    {
        var source = Resolve(track, RoomTrackKind.Audio);
        return Read(source, source.SubscribeAudio(format), cancellationToken);
    }

    public Task PublishDataAsync(ReadOnlyMemory<byte> payload, RoomDataOptions? options = null, CancellationToken cancellationToken = default)
    {
        EnsureConnected();
        cancellationToken.ThrowIfCancellationRequested();
        var destinations = options?.DestinationIdentities;
        var packet = new RoomDataPacket(payload.ToArray(), options?.Topic, LocalIdentity);
        foreach (var other in _room.Others(this))
        {
            if (destinations is null || destinations.Count == 0 || destinations.Contains(other.LocalIdentity))
            {
                other.OnData(packet);
            }
        }

        return Task.CompletedTask;
    }

    public Task<ILocalAudioTrack> PublishAudioAsync(string name, AudioFormat format, CancellationToken cancellationToken = default) =>
        Task.FromResult<ILocalAudioTrack>(Publish(name, RoomTrackKind.Audio, format, 0, 0));

    public Task<ILocalVideoTrack> PublishVideoAsync(string name, int width, int height, CancellationToken cancellationToken = default)
    {
        VideoFrame.GetByteCount(width, height, VideoPixelFormat.Rgba);
        return Task.FromResult<ILocalVideoTrack>(Publish(name, RoomTrackKind.Video, default, width, height));
    }

    public Task DisconnectAsync(CancellationToken cancellationToken = default)
    {
        Close("client disconnected");
        return Task.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        Close("client disconnected");
        return ValueTask.CompletedTask;
    }

    internal RoomParticipant Snapshot()
    {
        lock (_gate)
        {
            return new RoomParticipant(LocalIdentity, LocalIdentity, [.. _published.Select(t => t.Track)]);
        }
    }

    internal InProcessLocalTrack? FindLocalTrack(string sid)
    {
        lock (_gate)
        {
            return _published.FirstOrDefault(t => t.Track.Sid == sid);
        }
    }

    internal ValueTask UnpublishAsync(InProcessLocalTrack track)
    {
        lock (_gate)
        {
            if (!_published.Remove(track))
            {
                return ValueTask.CompletedTask;
            }
        }

        track.Close();
        foreach (var other in _room.Others(this))
        {
            other.OnTrackUnpublished(track.Track);
        }

        return ValueTask.CompletedTask;
    }

    internal void OnParticipantJoined(RoomParticipant participant)
    {
        lock (_gate)
        {
            _remote[participant.Identity] = participant;
        }

        ParticipantJoined?.Invoke(this, new RoomParticipantEventArgs(participant));
    }

    internal void OnParticipantLeft(RoomParticipant participant)
    {
        lock (_gate)
        {
            _remote.Remove(participant.Identity);
        }

        ParticipantLeft?.Invoke(this, new RoomParticipantEventArgs(participant));
    }

    internal void OnTrackPublished(RoomTrack track)
    {
        UpdateTracks(track.ParticipantIdentity, tracks => [.. tracks, track]);
        var args = new RoomTrackEventArgs(track);
        TrackPublished?.Invoke(this, args);
        TrackSubscribed?.Invoke(this, args);
    }

    internal void OnTrackUnpublished(RoomTrack track)
    {
        UpdateTracks(track.ParticipantIdentity, tracks => [.. tracks.Where(t => t.Sid != track.Sid)]);
        TrackUnsubscribed?.Invoke(this, new RoomTrackEventArgs(track));
    }

    internal void OnData(RoomDataPacket packet) => DataReceived?.Invoke(this, new RoomDataEventArgs(packet));

    internal void CloseFromServer(string reason) => Close(reason);

    private InProcessLocalTrack Publish(string name, RoomTrackKind kind, AudioFormat format, int width, int height)
    {
        Throw.IfNullOrWhiteSpace(name);
        EnsureConnected();
        var track = new InProcessLocalTrack(this, new RoomTrack(_room.NextTrackSid(), name, kind, LocalIdentity), format, width, height);
        lock (_gate)
        {
            _published.Add(track);
        }

        foreach (var other in _room.Others(this))
        {
            other.OnTrackPublished(track.Track);
        }

        return track;
    }

    private InProcessLocalTrack Resolve(RoomTrack track, RoomTrackKind kind)
    {
        ArgumentNullException.ThrowIfNull(track);
        EnsureConnected();
        if (track.Kind != kind)
        {
            throw new ArgumentException($"Track '{track.Name}' is {track.Kind}, not {kind}.", nameof(track));
        }

        return _room.FindTrack(track.Sid) is { } source && track.ParticipantIdentity != LocalIdentity
            ? source
            : throw new InvalidOperationException($"Track '{track.Sid}' is not published by a remote participant of room '{Name}'.");
    }

    private async IAsyncEnumerable<TFrame> Read<TFrame>(InProcessLocalTrack source, FrameSubscription<TFrame> subscription, [EnumeratorCancellation] CancellationToken cancellationToken)
        where TFrame : MediaFrame
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disconnected.Token);
        var frames = subscription.ReadAllAsync(linked.Token).GetAsyncEnumerator(linked.Token);
        try
        {
            while (true)
            {
                try
                {
                    if (!await frames.MoveNextAsync().ConfigureAwait(false))
                    {
                        yield break;
                    }
                }
                catch (OperationCanceledException) when (_disconnected.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    // Our own disconnect ends the stream; only the caller's token throws.
                    yield break;
                }

                yield return frames.Current;
            }
        }
        finally
        {
            await frames.DisposeAsync().ConfigureAwait(false);
            source.Unsubscribe(subscription);
        }
    }

    private void UpdateTracks(string identity, Func<IReadOnlyList<RoomTrack>, IReadOnlyList<RoomTrack>> update)
    {
        lock (_gate)
        {
            if (_remote.TryGetValue(identity, out var participant))
            {
                _remote[identity] = participant with { Tracks = update(participant.Tracks) };
            }
        }
    }

    private void EnsureConnected()
    {
        if (State != RoomConnectionState.Connected)
        {
            throw new InvalidOperationException($"The connection to room '{Name}' is {State}.");
        }
    }

    private void Close(string reason)
    {
        InProcessLocalTrack[] published;
        RoomParticipant snapshot;
        lock (_gate)
        {
            if (_state == RoomConnectionState.Disconnected)
            {
                return;
            }

            _state = RoomConnectionState.Disconnected;
            snapshot = new RoomParticipant(LocalIdentity, LocalIdentity, [.. _published.Select(t => t.Track)]);
            published = [.. _published];
            _published.Clear();
        }

        foreach (var track in published)
        {
            track.Close();
        }

        _room.Leave(this, snapshot);
        _disconnected.Cancel();
        ConnectionStateChanged?.Invoke(this, new RoomConnectionStateEventArgs(RoomConnectionState.Disconnected, reason));
    }
}
