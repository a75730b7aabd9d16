using System.Buffers;

namespace AvatarKit.Speech.Deepgram;

/// <summary>
/// The audio sent since the last final result, kept so that a reconnect can re-send it.
/// One pooled array, grown by doubling up to a limit; appending copies, never allocates once warm.
/// Positions are absolute byte offsets from the start of the stream.
/// </summary>
/// <remarks>Thread-safe: the sender appends while the receiver trims.</remarks>
internal sealed class ReplayBuffer : IDisposable
{
    private readonly Lock _lock = new();
    private readonly int _limit;
    private readonly int _blockAlign;
    private byte[] _buffer;
    private int _count;
    private long _startPosition;

    public ReplayBuffer(int initialCapacity, int limit, int blockAlign)
    {
        _limit = limit;
        _blockAlign = blockAlign;
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Min(initialCapacity, limit));
    }

    /// <summary>Gets the absolute position of the first retained byte.</summary>
    public long StartPosition
    {
        get
        {
            lock (_lock)
            {
                return _startPosition;
            }
        }
    }

    /// <summary>Gets the absolute position just after the last appended byte.</summary>
    public long EndPosition
    {
        get
        {
            lock (_lock)
            {
                return _startPosition + _count;
            }
        }
    }

    public void Append(ReadOnlySpan<byte> audio)
    {
        lock (_lock)
        {
            if (_count + audio.Length > _buffer.Length)
            {
                MakeRoom(audio.Length);
            }

            audio.CopyTo(_buffer.AsSpan(_count));
            _count += audio.Length;
        }
    }

    /// <summary>Forgets everything before <paramref name="position"/> (the end of a final result).</summary>
    public void TrimTo(long position)
    {
        lock (_lock)
        {
            var drop = (int)Math.Clamp(position - _startPosition, 0, _count);
            drop -= drop % _blockAlign;
            if (drop == 0)
            {
                return;
            }

            _buffer.AsSpan(drop, _count - drop).CopyTo(_buffer);
            _count -= drop;
            _startPosition += drop;
        }
    }

    /// <summary>Copies the retained audio into a pooled array for re-sending; the caller returns it to <see cref="ArrayPool{T}.Shared"/>.</summary>
    public (byte[] Buffer, int Count, long StartPosition) RentSnapshot()
    {
        lock (_lock)
        {
            var copy = ArrayPool<byte>.Shared.Rent(Math.Max(_count, 1));
            _buffer.AsSpan(0, _count).CopyTo(copy);
            return (copy, _count, _startPosition);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
            _count = 0;
        }
    }

    private void MakeRoom(int needed)
    {
        if (_count + needed > _limit)
        {
            // Past the limit the oldest audio goes: a reconnect then re-sends the most recent part only.
            var drop = Math.Min(_count, _count + needed - _limit);
            drop += (_blockAlign - drop % _blockAlign) % _blockAlign;
            drop = Math.Min(drop, _count);
            _buffer.AsSpan(drop, _count - drop).CopyTo(_buffer);
            _count -= drop;
            _startPosition += drop;
        }

        if (_count + needed > _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _count + needed));
            _buffer.AsSpan(0, _count).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
    }
}
