using System.Runtime.CompilerServices;
using AvatarKit.LiveKit.Native;
using AvatarKit.LiveKit.Rooms;
using LiveKit.Proto;
using Microsoft.Extensions.Logging;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace AvatarKit.LiveKit;

/// <summary>A joined LiveKit room, driven through LiveKit's native SDK.</summary>
/// <remarks>Obtain one from <see cref="LiveKitRoomConnector"/>. Events are raised on the SDK's dispatcher thread and must not block.</remarks>
public sealed partial class LiveKitRoom : IRealtimeRoom, IFfiEventSink
{
    private readonly FfiClient _client;
    private readonly LiveKitOptions _options;
    private readonly ILogger _logger;
    private readonly FfiHandle _room;
    private readonly FfiHandle _localParticipant;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, RemoteParticipantState> _participants = new(StringComparer.Ordinal);
    private readonly HashSet<IRemoteStream> _streams = [];
    private readonly List<IAsyncDisposable> _localTracks = [];
    private RoomConnectionState _state = RoomConnectionState.Connected;
    private long _droppedVideoFrames;
    private long _droppedAudioFrames;
    private int _disposed;

    private LiveKitRoom(FfiClient client, LiveKitOptions options, ILogger logger, ConnectCallback.Types.Result result)
    {
        _client = client;
        _options = options;
        _logger = logger;
        _room = FfiHandle.Own(result.Room.Handle);
        _localParticipant = FfiHandle.Own(result.LocalParticipant.Handle);
        Name = result.Room.Info.Name;
        Sid = result.Room.Info.Sid;
        LocalIdentity = result.LocalParticipant.Info.Identity;
        foreach (var remote in result.Participants)
        {
            var state = new RemoteParticipantState(remote.Participant.Info);
            FfiHandle.Drop(remote.Participant.Handle);
            foreach (var publication in remote.Publications)
            {
                FfiHandle.Drop(publication.Handle);
                state.Tracks[publication.Info.Sid] = new RemoteTrackState(ToRoomTrack(publication.Info, state.Identity));
            }

            _participants[state.Identity] = state;
        }
    }

    /// <inheritdoc />
    public event EventHandler<RoomParticipantEventArgs>? ParticipantJoined;

    /// <inheritdoc />
    public event EventHandler<RoomParticipantEventArgs>? ParticipantLeft;

    /// <inheritdoc />
    public event EventHandler<RoomTrackEventArgs>? TrackPublished;

    /// <inheritdoc />
    public event EventHandler<RoomTrackEventArgs>? TrackSubscribed;

    /// <inheritdoc />
    public event EventHandler<RoomTrackEventArgs>? TrackUnsubscribed;

    /// <inheritdoc />
    public event EventHandler<RoomDataEventArgs>? DataReceived;

    /// <inheritdoc />
    public event EventHandler<RoomConnectionStateEventArgs>? ConnectionStateChanged;

    /// <summary>Raised when the server reports a participant's connection quality (this client's own included), every few seconds.</summary>
    public event EventHandler<LiveKitConnectionQualityEventArgs>? ConnectionQualityChanged;

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>Gets the server's id of the room, when known.</summary>
    public string? Sid { get; }

    /// <inheritdoc />
    public string LocalIdentity { get; }

    /// <inheritdoc />
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

    /// <summary>Gets how many decoded video frames were dropped because a reader fell behind.</summary>
    public long DroppedVideoFrames => Interlocked.Read(ref _droppedVideoFrames);

    /// <summary>Gets how many audio frames were dropped because a reader fell behind.</summary>
    public long DroppedAudioFrames => Interlocked.Read(ref _droppedAudioFrames);

    /// <inheritdoc />
    public IReadOnlyList<RoomParticipant> RemoteParticipants
    {
        get
        {
            lock (_gate)
            {
                return [.. _participants.Values.Select(p => p.ToParticipant())];
            }
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<VideoFrame> ReadVideoAsync(RoomTrack track, VideoPixelFormat pixelFormat = VideoPixelFormat.I420, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(track);
        RequireKind(track, RoomTrackKind.Video);
        var response = _client.Request(new FfiRequest
        {
            NewVideoStream = new NewVideoStreamRequest
            {
                TrackHandle = await SubscribedTrackHandleAsync(track, cancellationToken).ConfigureAwait(false),
                Type = VideoStreamType.VideoStreamNative,
                Format = RemoteVideoStream.ToBufferType(pixelFormat),
                NormalizeStride = true,
                QueueSizeFrames = 2,
            },
        });
        var stream = new RemoteVideoStream(FfiHandle.Own(response.NewVideoStream.Stream.Handle), pixelFormat, _options.VideoQueueFrames, () => Interlocked.Increment(ref _droppedVideoFrames));
        await foreach (var frame in ReadStreamAsync(stream, cancellationToken).ConfigureAwait(false))
        {
            yield return frame;
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<AudioFrame> ReadAudioAsync(RoomTrack track, AudioFormat format, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(track);
        RequireKind(track, RoomTrackKind.Audio);
        if (format.SampleRate <= 0)
        {
            throw new ArgumentException("The audio format is not initialized.", nameof(format));
        }

        var response = _client.Request(new FfiRequest
        {
            NewAudioStream = new NewAudioStreamRequest
            {
                TrackHandle = await SubscribedTrackHandleAsync(track, cancellationToken).ConfigureAwait(false),
                Type = AudioStreamType.AudioStreamNative,
                SampleRate = (uint)format.SampleRate,
                NumChannels = (uint)format.Channels,
                FrameSizeMs = 10,
            },
        });
        var stream = new RemoteAudioStream(FfiHandle.Own(response.NewAudioStream.Stream.Handle), _options.AudioQueueFrames, () => Interlocked.Increment(ref _droppedAudioFrames));
        await foreach (var frame in ReadStreamAsync(stream, cancellationToken).ConfigureAwait(false))
        {
            yield return frame;
        }
    }

    /// <inheritdoc />
    public async Task PublishDataAsync(ReadOnlyMemory<byte> payload, RoomDataOptions? options = null, CancellationToken cancellationToken = default)
    {
        ThrowIfNotConnected();
        options ??= new RoomDataOptions();
        var (asyncId, callback) = _client.RegisterCallback();
        try
        {
            SendData(payload, options, asyncId);
            var result = (await callback.WaitAsync(cancellationToken).ConfigureAwait(false)).PublishData;
            if (result.HasError)
            {
                throw new LiveKitException($"LiveKit could not publish data on topic '{options.Topic}': {result.Error}");
            }
        }
        catch
        {
            _client.AbandonCallback(asyncId);
            throw;
        }
    }

    /// <inheritdoc />
    public async Task<ILocalAudioTrack> PublishAudioAsync(string name, AudioFormat format, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ThrowIfNotConnected();
        var track = await LiveKitLocalAudioTrack.PublishAsync(_localParticipant, LocalIdentity, name, format, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _localTracks.Add(track);
        }

        return track;
    }

    /// <summary>Publishes a local audio track and streams <paramref name="input"/> into it (a microphone, a WAV file, any <see cref="IAudioInput"/>).</summary>
    /// <param name="name">The track's name.</param>
    /// <param name="input">The audio to stream; captured in <paramref name="format"/> (converted here if the input delivers another format).</param>
    /// <param name="format">The format to publish; 48 kHz mono (LiveKit's native rate, no resampling) when null.</param>
    /// <param name="cancellationToken">Cancels publishing and, later, stops streaming (the track stays published until disposed).</param>
    /// <returns>The streaming track: its <see cref="LiveKitAudioInputTrack.Completion"/> says when the input ended; dispose it to stop and unpublish.</returns>
    public async Task<LiveKitAudioInputTrack> PublishAudioAsync(string name, IAudioInput input, AudioFormat? format = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(input);
        ThrowIfNotConnected();
        var track = await LiveKitLocalAudioTrack.PublishAsync(_localParticipant, LocalIdentity, name, format ?? AudioFormat.Pcm16Mono48kHz, cancellationToken).ConfigureAwait(false);
        var streaming = new LiveKitAudioInputTrack(track, input, cancellationToken);
        lock (_gate)
        {
            _localTracks.Add(streaming);
        }

        return streaming;
    }

    /// <inheritdoc />
    public async Task<ILocalVideoTrack> PublishVideoAsync(string name, int width, int height, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 2);
        ThrowIfNotConnected();
        var track = await LiveKitLocalVideoTrack.PublishAsync(_localParticipant, LocalIdentity, name, width, height, cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _localTracks.Add(track);
        }

        return track;
    }

    /// <summary>Reads the WebRTC statistics of a subscribed remote track or of a track this room published.</summary>
    /// <param name="track">The track.</param>
    /// <param name="cancellationToken">Cancels waiting for the report.</param>
    /// <returns>One entry per RTP stream of the track (usually one), with cumulative counters.</returns>
    /// <exception cref="InvalidOperationException">The track is neither subscribed nor published by this room.</exception>
    public async Task<IReadOnlyList<LiveKitRtpStats>> GetTrackStatsAsync(RoomTrack track, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(track);
        ThrowIfNotConnected();
        ulong handle;
        lock (_gate)
        {
            handle = FindLocalTrack(track.Sid)?.TrackId
                ?? (_participants.TryGetValue(track.ParticipantIdentity, out var participant) && participant.Tracks.TryGetValue(track.Sid, out var state) ? state.Subscribed?.Id : null)
                ?? throw new InvalidOperationException($"Track {track.Sid} of '{track.ParticipantIdentity}' is neither subscribed nor published in room '{Name}'.");
        }

        var callback = (await _client.RequestAsync(id => new FfiRequest { GetStats = new GetStatsRequest { TrackHandle = handle, RequestAsyncId = id } }, cancellationToken).ConfigureAwait(false)).GetStats;
        if (callback.HasError)
        {
            throw new LiveKitException($"LiveKit could not read the statistics of track {track.Sid}: {callback.Error}");
        }

        return LiveKitRtpStats.FromReport(callback.Stats);
    }

    /// <inheritdoc />
    public async Task DisconnectAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_state == RoomConnectionState.Disconnected || _room.IsClosed)
            {
                return;
            }
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await _client.RequestAsync(
                id => new FfiRequest { Disconnect = new DisconnectRequest { RoomHandle = _room.Id, RequestAsyncId = id, Reason = DisconnectReason.ClientInitiated } },
                timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogDisconnectTimedOut(_logger, Name);
        }
        finally
        {
            SetState(RoomConnectionState.Disconnected, "client initiated");
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await DisconnectAsync().ConfigureAwait(false);
        }
        catch (LiveKitException ex)
        {
            LogDisconnectFailed(_logger, ex, Name);
        }

        IAsyncDisposable[] localTracks;
        IRemoteStream[] streams;
        lock (_gate)
        {
            localTracks = [.. _localTracks];
            streams = [.. _streams];
            _localTracks.Clear();
            _streams.Clear();
        }

        foreach (var track in localTracks)
        {
            await track.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var stream in streams)
        {
            stream.Dispose();
        }

        _client.Unsubscribe(_room.Id);
        lock (_gate)
        {
            foreach (var participant in _participants.Values)
            {
                participant.Dispose();
            }

            _participants.Clear();
        }

        _localParticipant.Dispose();
        _room.Dispose();
    }

    /// <inheritdoc />
    void IFfiEventSink.OnEvent(FfiEvent ffiEvent)
    {
        var roomEvent = ffiEvent.RoomEvent;
        switch (roomEvent.MessageCase)
        {
            case RoomEvent.MessageOneofCase.ParticipantConnected:
                OnParticipantConnected(roomEvent.ParticipantConnected.Info);
                break;
            case RoomEvent.MessageOneofCase.ParticipantDisconnected:
                OnParticipantDisconnected(roomEvent.ParticipantDisconnected.ParticipantIdentity);
                break;
            case RoomEvent.MessageOneofCase.TrackPublished:
                OnTrackPublished(roomEvent.TrackPublished);
                break;
            case RoomEvent.MessageOneofCase.TrackUnpublished:
                OnTrackGone(roomEvent.TrackUnpublished.ParticipantIdentity, roomEvent.TrackUnpublished.PublicationSid, unpublished: true);
                break;
            case RoomEvent.MessageOneofCase.TrackSubscribed:
                OnTrackSubscribed(roomEvent.TrackSubscribed);
                break;
            case RoomEvent.MessageOneofCase.TrackUnsubscribed:
                OnTrackGone(roomEvent.TrackUnsubscribed.ParticipantIdentity, roomEvent.TrackUnsubscribed.TrackSid, unpublished: false);
                break;
            case RoomEvent.MessageOneofCase.DataPacketReceived:
                OnDataPacket(roomEvent.DataPacketReceived);
                break;
            case RoomEvent.MessageOneofCase.LocalTrackRepublished:
                OnLocalTrackRepublished(roomEvent.LocalTrackRepublished);
                break;
            case RoomEvent.MessageOneofCase.ConnectionQualityChanged:
                OnConnectionQuality(roomEvent.ConnectionQualityChanged);
                break;
            case RoomEvent.MessageOneofCase.Reconnecting:
                SetState(RoomConnectionState.Reconnecting, "reconnecting");
                break;
            case RoomEvent.MessageOneofCase.Reconnected:
                SetState(RoomConnectionState.Connected, "reconnected");
                break;
            case RoomEvent.MessageOneofCase.ConnectionStateChanged:
                OnConnectionState(roomEvent.ConnectionStateChanged.State);
                break;
            case RoomEvent.MessageOneofCase.Disconnected:
                SetState(RoomConnectionState.Disconnected, roomEvent.Disconnected.Reason.ToString());
                break;
            case RoomEvent.MessageOneofCase.Eos:
                _client.Unsubscribe(_room.Id);
                SetState(RoomConnectionState.Disconnected, "room closed");
                break;
            default:
                FfiClient.DropOwnedHandles(roomEvent);
                break;
        }
    }

    /// <summary>Joins a room and returns once the SDK reports it connected.</summary>
    /// <param name="client">The FFI client.</param>
    /// <param name="url">The server URL.</param>
    /// <param name="token">The access token (never logged).</param>
    /// <param name="options">Settings.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="cancellationToken">Cancels joining.</param>
    /// <returns>The room.</returns>
    internal static async Task<LiveKitRoom> ConnectAsync(FfiClient client, Uri url, string token, LiveKitOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var (asyncId, callback) = client.RegisterCallback();
        FfiEvent completed;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            client.Request(new FfiRequest
            {
                Connect = new ConnectRequest
                {
                    Url = url.ToString(),
                    Token = token,
                    RequestAsyncId = asyncId,
                    Options = new RoomOptions
                    {
                        AutoSubscribe = true,
                        AdaptiveStream = false,
                        Dynacast = false,
                        SinglePeerConnection = false,
                        JoinRetries = (uint)options.JoinRetries,
                        ConnectTimeoutMs = (ulong)Math.Max(1000, options.ConnectTimeout.TotalMilliseconds / (options.JoinRetries + 1)),
                    },
                },
            });
            completed = await callback.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A late success is dropped by the dispatcher, which owns callbacks nobody waits for.
            client.AbandonCallback(asyncId);
            throw new RoomConnectionException($"Joining the LiveKit room at {url} timed out after {options.ConnectTimeout.TotalSeconds:0.#} s; check the URL and that the server is reachable.");
        }
        catch (LiveKitException ex)
        {
            client.AbandonCallback(asyncId);
            throw new RoomConnectionException($"Joining the LiveKit room at {url} failed: {ex.Message}", ex);
        }
        catch
        {
            client.AbandonCallback(asyncId);
            throw;
        }

        var connect = completed.Connect;
        if (connect.MessageCase != ConnectCallback.MessageOneofCase.Result)
        {
            throw new RoomConnectionException($"Joining the LiveKit room at {url} failed: {connect.Error}");
        }

        var room = new LiveKitRoom(client, options, logger, connect.Result);
        client.Subscribe(room._room.Id, room);
        client.Request(new FfiRequest { ReadyForRoomEvent = new ReadyForRoomEventRequest { RoomHandle = room._room.Id } });
        LogConnected(logger, room.Name, room.LocalIdentity, room._participants.Count);
        return room;
    }

    private static RoomTrack ToRoomTrack(TrackPublicationInfo info, string identity) =>
        new(info.Sid, info.Name, info.Kind == TrackKind.KindVideo ? RoomTrackKind.Video : RoomTrackKind.Audio, identity);

    private static void RequireKind(RoomTrack track, RoomTrackKind kind)
    {
        if (track.Kind != kind)
        {
            throw new ArgumentException($"Track {track.Sid} is {track.Kind}, not {kind}.", nameof(track));
        }
    }

    private async IAsyncEnumerable<TFrame> ReadStreamAsync<TFrame>(RemoteMediaStream<TFrame> stream, [EnumeratorCancellation] CancellationToken cancellationToken)
        where TFrame : MediaFrame
    {
        lock (_gate)
        {
            if (_state == RoomConnectionState.Disconnected)
            {
                stream.Complete();
            }

            _streams.Add(stream);
        }

        _client.Subscribe(stream.Id, stream);
        try
        {
            await foreach (var frame in stream.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return frame;
            }
        }
        finally
        {
            lock (_gate)
            {
                _streams.Remove(stream);
            }

            stream.Dispose();
        }
    }

    // A published track is subscribed automatically shortly after it is announced: wait for that.
    private async Task<ulong> SubscribedTrackHandleAsync(RoomTrack track, CancellationToken cancellationToken)
    {
        Task subscribed;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_room.IsClosed, this);
            if (!_participants.TryGetValue(track.ParticipantIdentity, out var participant) || !participant.Tracks.TryGetValue(track.Sid, out var state))
            {
                throw new InvalidOperationException($"'{track.ParticipantIdentity}' does not publish track {track.Sid} in room '{Name}'.");
            }

            if (state.Subscribed is { } handle)
            {
                return handle.Id;
            }

            subscribed = state.SubscribedSignal.Task;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ConnectTimeout);
        try
        {
            await subscribed.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException($"Track {track.Sid} of '{track.ParticipantIdentity}' was not subscribed within {_options.ConnectTimeout.TotalSeconds:0.#} s.");
        }

        return await SubscribedTrackHandleAsync(track, cancellationToken).ConfigureAwait(false);
    }

    private unsafe void SendData(ReadOnlyMemory<byte> payload, RoomDataOptions options, ulong asyncId)
    {
        // The payload is copied inside the request, so it needs pinning only for the call.
        using var pin = payload.Pin();
        var request = new PublishDataRequest
        {
            LocalParticipantHandle = _localParticipant.Id,
            DataPtr = (ulong)pin.Pointer,
            DataLen = (ulong)payload.Length,
            Reliable = options.Reliable,
            RequestAsyncId = asyncId,
        };
        if (options.Topic is not null)
        {
            request.Topic = options.Topic;
        }

        if (options.DestinationIdentities is { Count: > 0 } destinations)
        {
            request.DestinationIdentities.AddRange(destinations);
        }

        _client.Request(new FfiRequest { PublishData = request });
    }

    private void ThrowIfNotConnected()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (State == RoomConnectionState.Disconnected)
        {
            throw new InvalidOperationException($"The room '{Name}' is disconnected.");
        }
    }

    private void OnParticipantConnected(OwnedParticipant owned)
    {
        FfiHandle.Drop(owned.Handle);
        var state = new RemoteParticipantState(owned.Info);
        RoomParticipant participant;
        lock (_gate)
        {
            if (_participants.Remove(state.Identity, out var previous))
            {
                previous.Dispose();
            }

            _participants[state.Identity] = state;
            participant = state.ToParticipant();
        }

        ParticipantJoined?.Invoke(this, new RoomParticipantEventArgs(participant));
    }

    private void OnParticipantDisconnected(string identity)
    {
        RoomParticipant participant;
        lock (_gate)
        {
            if (!_participants.Remove(identity, out var state))
            {
                return;
            }

            participant = state.ToParticipant();
            state.Dispose();
        }

        ParticipantLeft?.Invoke(this, new RoomParticipantEventArgs(participant));
    }

    private void OnTrackPublished(global::LiveKit.Proto.TrackPublished published)
    {
        FfiHandle.Drop(published.Publication.Handle);
        var track = ToRoomTrack(published.Publication.Info, published.ParticipantIdentity);
        lock (_gate)
        {
            if (!_participants.TryGetValue(track.ParticipantIdentity, out var participant))
            {
                return;
            }

            participant.Tracks.TryAdd(track.Sid, new RemoteTrackState(track));
        }

        TrackPublished?.Invoke(this, new RoomTrackEventArgs(track));
    }

    private void OnTrackSubscribed(global::LiveKit.Proto.TrackSubscribed subscribed)
    {
        var handle = FfiHandle.Own(subscribed.Track.Handle);
        var info = subscribed.Track.Info;
        RoomTrack track;
        lock (_gate)
        {
            if (!_participants.TryGetValue(subscribed.ParticipantIdentity, out var participant))
            {
                handle.Dispose();
                return;
            }

            if (!participant.Tracks.TryGetValue(info.Sid, out var state))
            {
                state = new RemoteTrackState(new RoomTrack(info.Sid, info.Name, info.Kind == TrackKind.KindVideo ? RoomTrackKind.Video : RoomTrackKind.Audio, subscribed.ParticipantIdentity));
                participant.Tracks[info.Sid] = state;
            }

            state.Subscribed?.Dispose();
            state.Subscribed = handle;
            state.SubscribedSignal.TrySetResult();
            track = state.Track;
        }

        TrackSubscribed?.Invoke(this, new RoomTrackEventArgs(track));
    }

    private void OnTrackGone(string identity, string sid, bool unpublished)
    {
        RoomTrack? stopped = null;
        lock (_gate)
        {
            if (!_participants.TryGetValue(identity, out var participant) || !participant.Tracks.TryGetValue(sid, out var state))
            {
                return;
            }

            if (state.Subscribed is { } handle)
            {
                handle.Dispose();
                state.Subscribed = null;
                state.SubscribedSignal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                stopped = state.Track;
            }

            if (unpublished)
            {
                participant.Tracks.Remove(sid);
            }
        }

        if (stopped is not null)
        {
            TrackUnsubscribed?.Invoke(this, new RoomTrackEventArgs(stopped));
        }
    }

    private unsafe void OnDataPacket(DataPacketReceived packet)
    {
        if (packet.ValueCase != DataPacketReceived.ValueOneofCase.User)
        {
            FfiClient.DropOwnedHandles(packet);
            return;
        }

        var user = packet.User;
        byte[] payload;
        using (FfiHandle.Own(user.Data.Handle))
        {
            payload = new ReadOnlySpan<byte>((void*)user.Data.Data.DataPtr, checked((int)user.Data.Data.DataLen)).ToArray();
        }

        var sender = string.IsNullOrEmpty(packet.ParticipantIdentity) ? null : packet.ParticipantIdentity;
        DataReceived?.Invoke(this, new RoomDataEventArgs(new RoomDataPacket(payload, user.HasTopic ? user.Topic : null, sender)));
    }

    // Callers hold _gate.
    private LiveKitLocalTrack? FindLocalTrack(string sid) =>
        _localTracks.Select(t => t is LiveKitAudioInputTrack input ? input.Inner : t).OfType<LiveKitLocalTrack>()
            .FirstOrDefault(t => t.Track.Sid == sid && !t.IsDisposed);

    private void OnLocalTrackRepublished(LocalTrackRepublished republished)
    {
        var publication = FfiHandle.Own(new FfiOwnedHandle { Id = republished.PublicationHandle });
        LiveKitLocalTrack? track;
        lock (_gate)
        {
            track = FindLocalTrack(republished.PreviousSid);
        }

        if (track is null)
        {
            publication.Dispose();
            return;
        }

        track.OnRepublished(publication, republished.Info.Sid);
        LogRepublished(_logger, republished.PreviousSid, republished.Info.Sid);
    }

    private void OnConnectionQuality(global::LiveKit.Proto.ConnectionQualityChanged changed)
    {
        var quality = changed.Quality switch
        {
            ConnectionQuality.QualityExcellent => LiveKitConnectionQuality.Excellent,
            ConnectionQuality.QualityGood => LiveKitConnectionQuality.Good,
            ConnectionQuality.QualityLost => LiveKitConnectionQuality.Lost,
            _ => LiveKitConnectionQuality.Poor,
        };
        ConnectionQualityChanged?.Invoke(this, new LiveKitConnectionQualityEventArgs(changed.ParticipantIdentity, quality));
    }

    // Disconnection is reported by the Disconnected event, which carries the reason.
    private void OnConnectionState(ConnectionState state)
    {
        if (state != ConnectionState.ConnDisconnected)
        {
            // This precedes the SDK's Reconnecting/Reconnected events, so it carries their reason.
            SetState(
                state == ConnectionState.ConnConnected ? RoomConnectionState.Connected : RoomConnectionState.Reconnecting,
                state == ConnectionState.ConnConnected ? "reconnected" : "reconnecting");
        }
    }

    private void SetState(RoomConnectionState state, string? reason)
    {
        IRemoteStream[] ended = [];
        lock (_gate)
        {
            if (_state == state || _state == RoomConnectionState.Disconnected)
            {
                return;
            }

            _state = state;
            if (state == RoomConnectionState.Disconnected)
            {
                ended = [.. _streams];
            }
        }

        foreach (var stream in ended)
        {
            stream.Complete();
        }

        LogStateChanged(_logger, Name, state, reason);
        ConnectionStateChanged?.Invoke(this, new RoomConnectionStateEventArgs(state, reason));
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Information, Message = "Joined LiveKit room {Room} as {Identity} with {Participants} other participants")]
    private static partial void LogConnected(ILogger logger, string room, string identity, int participants);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "LiveKit room {Room} is {State} ({Reason})")]
    private static partial void LogStateChanged(ILogger logger, string room, RoomConnectionState state, string? reason);

    [LoggerMessage(EventId = 12, Level = LogLevel.Warning, Message = "LiveKit room {Room} did not acknowledge the disconnect in time")]
    private static partial void LogDisconnectTimedOut(ILogger logger, string room);

    [LoggerMessage(EventId = 14, Level = LogLevel.Information, Message = "LiveKit republished local track {PreviousSid} as {Sid} after a full reconnect")]
    private static partial void LogRepublished(ILogger logger, string previousSid, string sid);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "Leaving LiveKit room {Room} failed")]
    private static partial void LogDisconnectFailed(ILogger logger, Exception exception, string room);

    private sealed class RemoteParticipantState(ParticipantInfo info) : IDisposable
    {
        public string Identity { get; } = info.Identity;

        public Dictionary<string, RemoteTrackState> Tracks { get; } = new(StringComparer.Ordinal);

        public RoomParticipant ToParticipant() =>
            new(Identity, string.IsNullOrEmpty(info.Name) ? null : info.Name, [.. Tracks.Values.Select(t => t.Track)])
            {
                Metadata = string.IsNullOrEmpty(info.Metadata) ? null : info.Metadata,
            };

        public void Dispose()
        {
            foreach (var track in Tracks.Values)
            {
                track.Subscribed?.Dispose();
                track.Subscribed = null;
            }
        }
    }

    private sealed class RemoteTrackState(RoomTrack track)
    {
        public RoomTrack Track { get; } = track;

        public FfiHandle? Subscribed { get; set; }

        public TaskCompletionSource SubscribedSignal { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
