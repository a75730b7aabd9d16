using System.Threading.Channels;
using AvatarKit.LiveKit.Native;
using LiveKit.Proto;

namespace AvatarKit.LiveKit.Rooms;

/// <summary>
/// A native video or audio stream of a remote track: each frame is copied once from native memory
/// into a pooled frame, its native buffer dropped at once, and queued in a bounded channel that
/// drops (and counts) the oldest frame when the reader falls behind.
/// </summary>
/// <typeparam name="TFrame">The frame type.</typeparam>
internal abstract class RemoteMediaStream<TFrame> : IFfiEventSink, IRemoteStream
    where TFrame : MediaFrame
{
    private readonly FfiHandle _stream;
    private readonly Channel<TFrame> _frames;
    private int _disposed;

    protected RemoteMediaStream(FfiHandle stream, int capacity, Action onDropped)
    {
        _stream = stream;
        _frames = Channel.CreateBounded<TFrame>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true },
            dropped =>
            {
                dropped.Dispose();
                onDropped();
            });
    }

    /// <summary>Gets the stream's handle id.</summary>
    internal ulong Id => _stream.Id;

    /// <summary>Gets the frames.</summary>
    internal ChannelReader<TFrame> Reader => _frames.Reader;

    /// <inheritdoc />
    public void OnEvent(FfiEvent ffiEvent)
    {
        var endOfStream = ffiEvent.MessageCase switch
        {
            FfiEvent.MessageOneofCase.VideoStreamEvent => ffiEvent.VideoStreamEvent.MessageCase == VideoStreamEvent.MessageOneofCase.Eos,
            FfiEvent.MessageOneofCase.AudioStreamEvent => ffiEvent.AudioStreamEvent.MessageCase == AudioStreamEvent.MessageOneofCase.Eos,
            _ => false,
        };
        if (endOfStream)
        {
            Complete();
            return;
        }

        var frame = CopyFrame(ffiEvent);
        if (frame is null)
        {
            return;
        }

        if (Volatile.Read(ref _disposed) != 0 || !_frames.Writer.TryWrite(frame))
        {
            frame.Dispose();
        }
    }

    /// <inheritdoc />
    public void Complete() => _frames.Writer.TryComplete();

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        FfiClient.Instance.Unsubscribe(_stream.Id);
        Complete();
        while (_frames.Reader.TryRead(out var frame))
        {
            frame.Dispose();
        }

        _stream.Dispose();
    }

    /// <summary>Copies the frame of an event into a pooled frame and drops the native buffer.</summary>
    /// <param name="ffiEvent">A frame event of this stream.</param>
    /// <returns>The frame, or <see langword="null"/> for an event without one.</returns>
    protected abstract TFrame? CopyFrame(FfiEvent ffiEvent);
}

/// <summary>A remote stream the room ends when it disconnects.</summary>
internal interface IRemoteStream : IDisposable
{
    /// <summary>Ends the stream for its reader (room left, track gone).</summary>
    void Complete();
}
