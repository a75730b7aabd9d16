using AvatarKit.LiveKit.Native;
using LiveKit.Proto;

namespace AvatarKit.LiveKit.Rooms;

/// <summary>A published local track: its source, track and publication handles, unpublished on dispose.</summary>
internal abstract class LiveKitLocalTrack : IAsyncDisposable
{
    private readonly FfiHandle _localParticipant;
    private readonly FfiHandle _source;
    private readonly FfiHandle _track;
    private FfiHandle _publication;
    private int _disposed;

    protected LiveKitLocalTrack(FfiHandle localParticipant, FfiHandle source, FfiHandle track, FfiHandle publication, RoomTrack roomTrack)
    {
        _localParticipant = localParticipant;
        _source = source;
        _track = track;
        _publication = publication;
        Track = roomTrack;
    }

    /// <summary>Gets the published track (its sid changes when a full reconnect republishes it).</summary>
    public RoomTrack Track { get; private set; }

    /// <summary>Takes the new publication after the SDK republished the track (a full reconnect gives it a new sid).</summary>
    /// <param name="publication">The new publication's handle, now owned by this track.</param>
    /// <param name="sid">The new sid.</param>
    internal void OnRepublished(FfiHandle publication, string sid)
    {
        Interlocked.Exchange(ref _publication, publication).Dispose();
        Track = Track with { Sid = sid };
    }

    /// <summary>Gets the native track's handle id.</summary>
    internal ulong TrackId => _track.Id;

    /// <summary>Gets the native source's handle id.</summary>
    protected ulong SourceId => _source.Id;

    /// <summary>Gets a value indicating whether the track was unpublished.</summary>
    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Creates the track of a source and publishes it.</summary>
    /// <param name="localParticipant">The local participant.</param>
    /// <param name="source">The source handle (owned by the result, or disposed on failure).</param>
    /// <param name="createTrack">Builds the create-track request for the source.</param>
    /// <param name="options">How to publish.</param>
    /// <param name="identity">The local identity.</param>
    /// <param name="kind">Audio or video.</param>
    /// <param name="cancellationToken">Cancels waiting for the server.</param>
    /// <returns>The handles and the published track.</returns>
    protected static async Task<(FfiHandle Track, FfiHandle Publication, RoomTrack RoomTrack)> PublishAsync(
        FfiHandle localParticipant, FfiHandle source, FfiRequest createTrack, TrackPublishOptions options, string identity, RoomTrackKind kind, CancellationToken cancellationToken)
    {
        var client = FfiClient.Instance;
        var response = client.Request(createTrack);
        var owned = response.MessageCase == FfiResponse.MessageOneofCase.CreateAudioTrack ? response.CreateAudioTrack.Track : response.CreateVideoTrack.Track;
        var track = FfiHandle.Own(owned.Handle);
        try
        {
            var callback = (await client.RequestAsync(
                id => new FfiRequest
                {
                    PublishTrack = new PublishTrackRequest { LocalParticipantHandle = localParticipant.Id, TrackHandle = track.Id, Options = options, RequestAsyncId = id },
                },
                cancellationToken).ConfigureAwait(false)).PublishTrack;
            if (callback.MessageCase == PublishTrackCallback.MessageOneofCase.Error)
            {
                throw new LiveKitException($"LiveKit could not publish the {kind} track '{owned.Info.Name}': {callback.Error}");
            }

            var info = callback.Publication.Info;
            return (track, FfiHandle.Own(callback.Publication.Handle), new RoomTrack(info.Sid, info.Name, kind, identity));
        }
        catch
        {
            track.Dispose();
            throw;
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
            if (!_localParticipant.IsClosed)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await FfiClient.Instance.RequestAsync(
                    id => new FfiRequest
                    {
                        UnpublishTrack = new UnpublishTrackRequest { LocalParticipantHandle = _localParticipant.Id, TrackSid = Track.Sid, StopOnUnpublish = true, RequestAsyncId = id },
                    },
                    timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is LiveKitException or OperationCanceledException or ObjectDisposedException)
        {
            // The room is gone or the server did not answer: the handles below still go.
        }
        finally
        {
            _publication.Dispose();
            _track.Dispose();
            _source.Dispose();
        }
    }
}

/// <summary>A local audio track fed with PCM16 frames.</summary>
internal sealed class LiveKitLocalAudioTrack : LiveKitLocalTrack, ILocalAudioTrack
{
    private LiveKitLocalAudioTrack(FfiHandle localParticipant, FfiHandle source, FfiHandle track, FfiHandle publication, RoomTrack roomTrack, AudioFormat format)
        : base(localParticipant, source, track, publication, roomTrack)
    {
        Format = format;
    }

    /// <inheritdoc />
    public AudioFormat Format { get; }

    /// <summary>Creates a native audio source and track and publishes it as a microphone.</summary>
    /// <param name="localParticipant">The local participant.</param>
    /// <param name="identity">The local identity.</param>
    /// <param name="name">The track name.</param>
    /// <param name="format">The format of written frames.</param>
    /// <param name="cancellationToken">Cancels publishing.</param>
    /// <returns>The track.</returns>
    internal static async Task<LiveKitLocalAudioTrack> PublishAsync(FfiHandle localParticipant, string identity, string name, AudioFormat format, CancellationToken cancellationToken)
    {
        var response = FfiClient.Instance.Request(new FfiRequest
        {
            NewAudioSource = new NewAudioSourceRequest
            {
                Type = AudioSourceType.AudioSourceNative,
                Options = new AudioSourceOptions { EchoCancellation = false, NoiseSuppression = false, AutoGainControl = false },
                SampleRate = (uint)format.SampleRate,
                NumChannels = (uint)format.Channels,
                QueueSizeMs = 200,
            },
        });
        var source = FfiHandle.Own(response.NewAudioSource.Source.Handle);
        try
        {
            var (track, publication, roomTrack) = await PublishAsync(
                localParticipant,
                source,
                new FfiRequest { CreateAudioTrack = new CreateAudioTrackRequest { Name = name, SourceHandle = source.Id } },
                new TrackPublishOptions { Source = TrackSource.SourceMicrophone, Dtx = false, Red = false },
                identity,
                RoomTrackKind.Audio,
                cancellationToken).ConfigureAwait(false);
            return new LiveKitLocalAudioTrack(localParticipant, source, track, publication, roomTrack, format);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask WriteAsync(AudioFrame frame, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        if (frame.Format != Format)
        {
            throw new ArgumentException($"The track takes {Format}; the frame is {frame.Format}.", nameof(frame));
        }

        var client = FfiClient.Instance;
        var (asyncId, callback) = client.RegisterCallback();
        try
        {
            Send(client, frame, asyncId);
            var error = (await callback.WaitAsync(cancellationToken).ConfigureAwait(false)).CaptureAudioFrame;
            if (error.HasError)
            {
                throw new LiveKitException($"LiveKit could not capture audio on '{Track.Name}': {error.Error}");
            }
        }
        catch
        {
            client.AbandonCallback(asyncId);
            throw;
        }
    }

    private unsafe void Send(FfiClient client, AudioFrame frame, ulong asyncId)
    {
        // The samples are copied inside the request, so they need pinning only for the call.
        using var pin = frame.Memory.Pin();
        client.Request(new FfiRequest
        {
            CaptureAudioFrame = new CaptureAudioFrameRequest
            {
                SourceHandle = SourceId,
                RequestAsyncId = asyncId,
                Buffer = new AudioFrameBufferInfo
                {
                    DataPtr = (ulong)pin.Pointer,
                    NumChannels = (uint)Format.Channels,
                    SampleRate = (uint)Format.SampleRate,
                    SamplesPerChannel = (uint)frame.SampleCount,
                },
            },
        });
    }
}

/// <summary>A local video track fed with I420 or RGBA frames.</summary>
internal sealed class LiveKitLocalVideoTrack : LiveKitLocalTrack, ILocalVideoTrack
{
    private readonly int _width;
    private readonly int _height;

    private LiveKitLocalVideoTrack(FfiHandle localParticipant, FfiHandle source, FfiHandle track, FfiHandle publication, RoomTrack roomTrack, int width, int height)
        : base(localParticipant, source, track, publication, roomTrack)
    {
        _width = width;
        _height = height;
    }

    /// <summary>Creates a native video source and track and publishes it as a camera (VP8, no simulcast).</summary>
    /// <param name="localParticipant">The local participant.</param>
    /// <param name="identity">The local identity.</param>
    /// <param name="name">The track name.</param>
    /// <param name="width">Frame width.</param>
    /// <param name="height">Frame height.</param>
    /// <param name="cancellationToken">Cancels publishing.</param>
    /// <returns>The track.</returns>
    internal static async Task<LiveKitLocalVideoTrack> PublishAsync(FfiHandle localParticipant, string identity, string name, int width, int height, CancellationToken cancellationToken)
    {
        var response = FfiClient.Instance.Request(new FfiRequest
        {
            NewVideoSource = new NewVideoSourceRequest
            {
                Type = VideoSourceType.VideoSourceNative,
                Resolution = new VideoSourceResolution { Width = (uint)width, Height = (uint)height },
            },
        });
        var source = FfiHandle.Own(response.NewVideoSource.Source.Handle);
        try
        {
            var (track, publication, roomTrack) = await PublishAsync(
                localParticipant,
                source,
                new FfiRequest { CreateVideoTrack = new CreateVideoTrackRequest { Name = name, SourceHandle = source.Id } },
                // Keep the published size: without it WebRTC starts a 720p track at a lower resolution
                // until bandwidth estimates grow, and the receiver sees another size than was written.
                new TrackPublishOptions
                {
                    Source = TrackSource.SourceCamera,
                    Simulcast = false,
                    VideoCodec = VideoCodec.Vp8,
                    DegradationPreference = DegradationPreference.MaintainResolution,
                },
                identity,
                RoomTrackKind.Video,
                cancellationToken).ConfigureAwait(false);
            return new LiveKitLocalVideoTrack(localParticipant, source, track, publication, roomTrack, width, height);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public ValueTask WriteAsync(VideoFrame frame, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ObjectDisposedException.ThrowIf(IsDisposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (frame.Width != _width || frame.Height != _height)
        {
            throw new ArgumentException($"The track takes {_width}x{_height} frames; the frame is {frame.Width}x{frame.Height}.", nameof(frame));
        }

        Send(frame);
        return ValueTask.CompletedTask;
    }

    private unsafe void Send(VideoFrame frame)
    {
        // The native side copies (or converts) the picture before the request returns.
        using var pin = frame.Memory.Pin();
        var data = (ulong)pin.Pointer;
        var info = new VideoBufferInfo { Width = (uint)frame.Width, Height = (uint)frame.Height, DataPtr = data };
        if (frame.PixelFormat == VideoPixelFormat.Rgba)
        {
            info.Type = VideoBufferType.Rgba;
            info.Stride = (uint)frame.Width * 4;
        }
        else
        {
            var lumaSize = (uint)(frame.Width * frame.Height);
            var chromaSize = (uint)(frame.ChromaWidth * frame.ChromaHeight);
            info.Type = VideoBufferType.I420;
            info.Components.Add(new VideoBufferInfo.Types.ComponentInfo { DataPtr = data, Stride = (uint)frame.Width, Size = lumaSize });
            info.Components.Add(new VideoBufferInfo.Types.ComponentInfo { DataPtr = data + lumaSize, Stride = (uint)frame.ChromaWidth, Size = chromaSize });
            info.Components.Add(new VideoBufferInfo.Types.ComponentInfo { DataPtr = data + lumaSize + chromaSize, Stride = (uint)frame.ChromaWidth, Size = chromaSize });
        }

        FfiClient.Instance.Request(new FfiRequest
        {
            CaptureVideoFrame = new CaptureVideoFrameRequest
            {
                SourceHandle = SourceId,
                Buffer = info,
                TimestampUs = (long)frame.Timestamp.TotalMicroseconds,
                Rotation = VideoRotation._0,
            },
        });
    }
}
