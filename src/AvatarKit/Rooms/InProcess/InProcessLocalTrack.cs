namespace AvatarKit;

/// <summary>A track published by an in-process participant: fans each written frame out to its subscribers.</summary>
internal sealed class InProcessLocalTrack : ILocalAudioTrack, ILocalVideoTrack
{
    private readonly InProcessRoomConnection _owner;
    private readonly Lock _gate = new();
    private readonly List<FrameSubscription<AudioFrame>> _audioReaders = [];
    private readonly List<FrameSubscription<VideoFrame>> _videoReaders = [];
    private bool _closed;

    public InProcessLocalTrack(InProcessRoomConnection owner, RoomTrack track, AudioFormat format, int width, int height)
    {
        _owner = owner;
        Track = track;
        Format = format;
        Width = width;
        Height = height;
    }

    public RoomTrack Track { get; }

    public AudioFormat Format { get; }

    public int Width { get; }

    public int Height { get; }

    public bool HasSubscribers
    {
        get
        {
            lock (_gate)
            {
                return _audioReaders.Count + _videoReaders.Count > 0;
            }
        }
    }

    public ValueTask WriteAsync(AudioFrame frame, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (frame.Format != Format)
        {
            throw new ArgumentException($"Track '{Track.Name}' carries {Format}; the frame is {frame.Format}.", nameof(frame));
        }

        Fan(_audioReaders, frame);
        return ValueTask.CompletedTask;
    }

    public ValueTask WriteAsync(VideoFrame frame, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (frame.Width != Width || frame.Height != Height)
        {
            throw new ArgumentException($"Track '{Track.Name}' is {Width}x{Height}; the frame is {frame.Width}x{frame.Height}.", nameof(frame));
        }

        Fan(_videoReaders, frame);
        return ValueTask.CompletedTask;
    }

    public FrameSubscription<AudioFrame> SubscribeAudio(AudioFormat format) =>
        Subscribe(_audioReaders, new FrameSubscription<AudioFrame>(500, frame => AudioConversion.Convert(frame, format)));

    public FrameSubscription<VideoFrame> SubscribeVideo(VideoPixelFormat pixelFormat) =>
        Subscribe(_videoReaders, new FrameSubscription<VideoFrame>(30, frame => frame.ConvertTo(pixelFormat)));

    public void Unsubscribe<TFrame>(FrameSubscription<TFrame> subscription)
        where TFrame : MediaFrame
    {
        lock (_gate)
        {
            _audioReaders.Remove((subscription as FrameSubscription<AudioFrame>)!);
            _videoReaders.Remove((subscription as FrameSubscription<VideoFrame>)!);
        }
    }

    public void Close()
    {
        FrameSubscription<AudioFrame>[] audio;
        FrameSubscription<VideoFrame>[] video;
        lock (_gate)
        {
            _closed = true;
            audio = [.. _audioReaders];
            video = [.. _videoReaders];
            _audioReaders.Clear();
            _videoReaders.Clear();
        }

        Array.ForEach(audio, s => s.Complete());
        Array.ForEach(video, s => s.Complete());
    }

    public ValueTask DisposeAsync() => _owner.UnpublishAsync(this);

    private FrameSubscription<TFrame> Subscribe<TFrame>(List<FrameSubscription<TFrame>> readers, FrameSubscription<TFrame> subscription)
        where TFrame : MediaFrame
    {
        lock (_gate)
        {
            if (_closed)
            {
                subscription.Complete();
            }
            else
            {
                readers.Add(subscription);
            }
        }

        return subscription;
    }

    private void Fan<TFrame>(List<FrameSubscription<TFrame>> readers, TFrame frame)
        where TFrame : MediaFrame
    {
        FrameSubscription<TFrame>[] targets;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            targets = [.. readers];
        }

        foreach (var reader in targets)
        {
            reader.Offer(frame);
        }
    }
}
