using System.Buffers;

namespace AvatarKit.Llm.Gemini;

/// <summary>
/// Reads Server-Sent Events from a byte stream and exposes each event's <c>data</c> as UTF-8
/// bytes, as soon as the event's terminating blank line has arrived.
/// </summary>
/// <remarks>
/// Lines may end with CRLF, LF or CR (also split across reads). Several <c>data:</c> lines in one
/// event are joined with LF, comments (<c>:</c>) and other fields are ignored, and an event without
/// data is skipped. Buffers are pooled: <see cref="Current"/> is valid until the next
/// <see cref="MoveNextAsync"/>. An event left unterminated at the end of the stream throws
/// <see cref="SseTruncatedException"/>. Not thread-safe.
/// </remarks>
internal sealed class SseEventReader : IDisposable
{
    private static readonly SearchValues<byte> LineEnds = SearchValues.Create("\r\n"u8);

    private readonly Stream _stream;
    private byte[] _buffer;
    private int _start;
    private int _end;
    private byte[] _data;
    private int _dataLength;
    private bool _hasData;
    private bool _skipLeadingLf;
    private bool _eof;

    public SseEventReader(Stream stream, int bufferSize = 8192)
    {
        _stream = stream;
        _buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        _data = ArrayPool<byte>.Shared.Rent(bufferSize);
    }

    /// <summary>Gets the data of the current event (the <c>data:</c> lines joined with LF).</summary>
    public ReadOnlyMemory<byte> Current => _data.AsMemory(0, _dataLength);

    /// <summary>Advances to the next event that carries data.</summary>
    /// <returns><see langword="true"/> when an event was read; <see langword="false"/> at a clean end of stream.</returns>
    public async ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken = default)
    {
        _dataLength = 0;
        _hasData = false;
        while (true)
        {
            while (TryReadLine(out var line))
            {
                if (line.IsEmpty)
                {
                    if (_hasData)
                    {
                        return true;
                    }

                    continue;
                }

                ProcessField(line);
            }

            if (_eof)
            {
                if (_hasData || _end > _start)
                {
                    throw new SseTruncatedException(_dataLength + (_end - _start));
                }

                return false;
            }

            await FillAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        if (_buffer.Length == 0)
        {
            return;
        }

        ArrayPool<byte>.Shared.Return(_buffer);
        ArrayPool<byte>.Shared.Return(_data);
        _buffer = [];
        _data = [];
    }

    private bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        if (_skipLeadingLf && _start < _end)
        {
            // A CR ended the previous line; an LF right after it belongs to the same line end.
            if (_buffer[_start] == (byte)'\n')
            {
                _start++;
            }

            _skipLeadingLf = false;
        }

        var available = _buffer.AsSpan(_start, _end - _start);
        var index = available.IndexOfAny(LineEnds);
        if (index < 0)
        {
            line = default;
            return false;
        }

        line = available[..index];
        if (available[index] == (byte)'\r')
        {
            if (index + 1 < available.Length)
            {
                _start += available[index + 1] == (byte)'\n' ? index + 2 : index + 1;
            }
            else
            {
                _start += index + 1;
                _skipLeadingLf = true;
            }
        }
        else
        {
            _start += index + 1;
        }

        return true;
    }

    private void ProcessField(ReadOnlySpan<byte> line)
    {
        if (line[0] == (byte)':')
        {
            return;
        }

        var colon = line.IndexOf((byte)':');
        var name = colon < 0 ? line : line[..colon];
        if (!name.SequenceEqual("data"u8))
        {
            return;
        }

        var value = colon < 0 ? [] : line[(colon + 1)..];
        if (!value.IsEmpty && value[0] == (byte)' ')
        {
            value = value[1..];
        }

        var needed = _dataLength + value.Length + (_hasData ? 1 : 0);
        if (needed > _data.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _data.Length * 2));
            _data.AsSpan(0, _dataLength).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_data);
            _data = larger;
        }

        if (_hasData)
        {
            _data[_dataLength++] = (byte)'\n';
        }

        value.CopyTo(_data.AsSpan(_dataLength));
        _dataLength += value.Length;
        _hasData = true;
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        if (_start > 0)
        {
            // Keep only the unfinished line; it moves to the front.
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(_buffer.Length * 2);
            _buffer.AsSpan(0, _end).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
        if (read == 0)
        {
            _eof = true;
        }

        _end += read;
    }
}

/// <summary>The SSE stream ended in the middle of an event.</summary>
internal sealed class SseTruncatedException(int pendingBytes)
    : IOException($"The event stream ended in the middle of an event ({pendingBytes} bytes without the terminating blank line).")
{
    public int PendingBytes { get; } = pendingBytes;
}
