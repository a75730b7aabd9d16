using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace AvatarKit;

/// <summary>
/// One reader of one track: a bounded queue that drops (and disposes) its oldest frame when the
/// reader falls behind, so a slow reader never blocks the writer or grows memory.
/// </summary>
internal sealed class FrameSubscription<TFrame>
    where TFrame : MediaFrame
{
    private readonly Channel<TFrame> _channel;
    private readonly Func<TFrame, TFrame> _copy;
    private long _dropped;

    public FrameSubscription(int capacity, Func<TFrame, TFrame> copy)
    {
        _copy = copy;
        _channel = Channel.CreateBounded<TFrame>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            dropped =>
            {
                Interlocked.Increment(ref _dropped);
                dropped.Dispose();
            });
    }

    public long DroppedFrames => Interlocked.Read(ref _dropped);

    public void Offer(TFrame frame)
    {
        var copy = _copy(frame);
        if (!_channel.Writer.TryWrite(copy))
        {
            copy.Dispose();
        }
    }

    public void Complete() => _channel.Writer.TryComplete();

    public async IAsyncEnumerable<TFrame> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var frame in _channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return frame;
            }
        }
        finally
        {
            _channel.Writer.TryComplete();
            while (_channel.Reader.TryRead(out var left))
            {
                left.Dispose();
            }
        }
    }
}
