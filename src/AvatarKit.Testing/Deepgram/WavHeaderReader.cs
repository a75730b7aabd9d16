using System.Buffers;
using System.Buffers.Binary;

namespace AvatarKit.Testing.Deepgram;

/// <summary>What <see cref="WavHeaderReader.Read"/> found.</summary>
internal enum WavHeaderStatus
{
    NeedMore,
    Invalid,
    Found,
}

/// <summary>
/// Reads the header of a WAV file streamed in chunks of any size (the data chunk's size is ignored, as
/// streaming writers leave it 0 or unknown), for a live stream that names no encoding.
/// </summary>
internal sealed class WavHeaderReader
{
    private const int MaxHeaderBytes = 64 * 1024;
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    /// <summary>Adds <paramref name="chunk"/>; once the header is complete, gives the format and the audio after it.</summary>
    public WavHeaderStatus Read(ReadOnlySpan<byte> chunk, out AudioFormat format, out ReadOnlySpan<byte> audio)
    {
        _buffer.Write(chunk);
        var data = _buffer.WrittenSpan;
        format = default;
        audio = default;
        if (data.Length < 12)
        {
            return WavHeaderStatus.NeedMore;
        }

        if (!data[..4].SequenceEqual("RIFF"u8) || !data[8..12].SequenceEqual("WAVE"u8))
        {
            return WavHeaderStatus.Invalid;
        }

        AudioFormat? found = null;
        var offset = 12;
        while (offset + 8 <= data.Length)
        {
            var id = data.Slice(offset, 4);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(data[(offset + 4)..]);
            if (id.SequenceEqual("data"u8))
            {
                if (found is null)
                {
                    return WavHeaderStatus.Invalid;
                }

                format = found.Value;
                audio = data[(offset + 8)..];
                return WavHeaderStatus.Found;
            }

            if (size > MaxHeaderBytes || offset + 8 + (int)size > data.Length)
            {
                break;
            }

            if (id.SequenceEqual("fmt "u8))
            {
                var fmt = data.Slice(offset + 8, (int)size);
                if (fmt.Length < 16)
                {
                    return WavHeaderStatus.Invalid;
                }

                var tag = BinaryPrimitives.ReadUInt16LittleEndian(fmt);
                var channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt[2..]);
                var rate = BinaryPrimitives.ReadInt32LittleEndian(fmt[4..]);
                var bits = BinaryPrimitives.ReadUInt16LittleEndian(fmt[14..]);

                // PCM, or WAVE_FORMAT_EXTENSIBLE (assumed PCM), 16-bit.
                if (tag is not (1 or 0xFFFE) || bits != 16 || channels is < 1 or > 8 || rate is < 8_000 or > 192_000)
                {
                    return WavHeaderStatus.Invalid;
                }

                found = new AudioFormat(rate, channels);
            }

            offset += 8 + (int)size + (int)(size & 1);
        }

        return data.Length > MaxHeaderBytes ? WavHeaderStatus.Invalid : WavHeaderStatus.NeedMore;
    }
}
