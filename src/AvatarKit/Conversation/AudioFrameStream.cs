using System.Threading.Channels;

namespace AvatarKit;

/// <summary>
/// A read-only stream of the raw PCM16 bytes of the frames read from a channel; it ends when the
/// channel completes. This is how live audio reaches an <c>ISpeechToTextClient</c>, which takes a <see cref="Stream"/>.
/// </summary>
internal sealed class AudioFrameStream(ChannelReader<AudioFrame> frames) : Stream
{
    private AudioFrame? _current;
    private int _offset;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (_current is null)
        {
            if (frames.TryRead(out var next))
            {
                _current = next;
                _offset = 0;
                break;
            }

            if (!await frames.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return 0;
            }
        }

        var count = Math.Min(buffer.Length, _current.Length - _offset);
        _current.Memory.Slice(_offset, count).CopyTo(buffer);
        _offset += count;
        if (_offset >= _current.Length)
        {
            _current.Dispose();
            _current = null;
        }

        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Synchronous readers block a thread; clients that stream should use ReadAsync.
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _current?.Dispose();
            _current = null;
        }

        base.Dispose(disposing);
    }
}
