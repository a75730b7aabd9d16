using System.Buffers;

namespace AvatarKit;

/// <summary>
/// A unit of media that owns a buffer rented from an <see cref="ArrayPool{T}"/>.
/// Disposing the frame returns the buffer to its pool exactly once; further disposals do nothing.
/// </summary>
/// <remarks>
/// Whoever receives a frame owns it and must dispose it (or hand it on). Frames are not
/// thread-safe for concurrent writes; reading a frame from several threads is safe.
/// </remarks>
public abstract class MediaFrame : IDisposable
{
    private readonly ArrayPool<byte> _pool;
    private readonly int _length;
    private byte[]? _buffer;

    private protected MediaFrame(int length, TimeSpan timestamp, ArrayPool<byte>? pool)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfLessThan(timestamp, TimeSpan.Zero);
        _pool = pool ?? ArrayPool<byte>.Shared;
        _length = length;
        _buffer = _pool.Rent(length);
        Timestamp = timestamp;
    }

    /// <summary>Gets the presentation time of the frame's first sample, relative to the start of its stream.</summary>
    public TimeSpan Timestamp { get; }

    /// <summary>Gets the number of bytes of media the frame holds.</summary>
    public int Length => _length;

    /// <summary>Gets a value indicating whether the frame was disposed and its buffer returned.</summary>
    public bool IsDisposed => Volatile.Read(ref _buffer) is null;

    /// <summary>Gets the frame's bytes.</summary>
    /// <exception cref="ObjectDisposedException">The frame was disposed.</exception>
    public Memory<byte> Memory => Buffer.AsMemory(0, _length);

    /// <summary>Gets the frame's bytes as a span.</summary>
    /// <exception cref="ObjectDisposedException">The frame was disposed.</exception>
    public Span<byte> Span => Buffer.AsSpan(0, _length);

    private byte[] Buffer
    {
        get
        {
            var buffer = Volatile.Read(ref _buffer);
            ObjectDisposedException.ThrowIf(buffer is null, this);
            return buffer;
        }
    }

    /// <summary>Returns the frame's buffer to its pool. Safe to call more than once.</summary>
    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            _pool.Return(buffer);
        }

        GC.SuppressFinalize(this);
    }
}
