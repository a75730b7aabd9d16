using System.Buffers.Binary;
using System.Runtime.InteropServices;
using NAudio.Wave;

namespace AvatarKit.Speech.Capture.Wasapi;

/// <summary>
/// Turns a capture device's native stream (WASAPI's shared-mode mix format: usually 32-bit float,
/// often WAVE_FORMAT_EXTENSIBLE, any rate and channel count) into 20 ms <see cref="AudioFrame"/>s of the
/// requested PCM16 format. Platform-independent, so it is tested everywhere.
/// </summary>
/// <remarks>
/// Samples are decoded to PCM16 (<see cref="Pcm16.FromFloat"/> for float), gathered into 20 ms blocks at
/// the device rate, and each block is converted with <see cref="AudioConversion"/> (downmix, resample).
/// Converting whole 20 ms blocks keeps the output length exact: no rounding drift between callbacks.
/// Bytes of a sample frame split across two callbacks are carried over. Not thread-safe.
/// </remarks>
internal sealed class CaptureFormatConverter
{
    private readonly SampleKind _kind;
    private readonly int _bytesPerSample;
    private readonly AudioFormat _device;
    private readonly AudioFormat _target;
    private readonly short[] _block;
    private readonly byte[] _carry;
    private int _carried;
    private int _blockFill;
    private long _framesEmitted;

    /// <summary>Initializes a converter from <paramref name="source"/> to <paramref name="target"/>.</summary>
    /// <exception cref="AudioInputException">The device format cannot be decoded (the message names it).</exception>
    public CaptureFormatConverter(WaveFormat source, AudioFormat target)
    {
        ArgumentNullException.ThrowIfNull(source);
        (_kind, _bytesPerSample) = Classify(source);
        if (source.Channels is < 1 or > 8 || source.SampleRate is < 8_000 or > 192_000 || source.SampleRate % 50 != 0)
        {
            throw new AudioInputException($"The capture device's format ({Describe(source)}) is not supported: 8-192 kHz in steps of 50 Hz, 1-8 channels.");
        }

        if (target.Channels > 2 && target.Channels != source.Channels)
        {
            throw new AudioInputException($"Capture can deliver mono or stereo, not {target.Channels} channels from a {source.Channels}-channel device.");
        }

        _device = new AudioFormat(source.SampleRate, source.Channels);
        _target = target;
        _block = new short[source.SampleRate / 50 * source.Channels];
        _carry = new byte[_bytesPerSample * source.Channels];
    }

    /// <summary>Gets the decoded device format (PCM16 at the device's rate and channels).</summary>
    public AudioFormat DeviceFormat => _device;

    /// <summary>Decodes <paramref name="data"/> and hands each completed 20 ms frame (owned by the callee) to <paramref name="emit"/>.</summary>
    public void Write(ReadOnlySpan<byte> data, Action<AudioFrame> emit)
    {
        ArgumentNullException.ThrowIfNull(emit);
        var frameBytes = _carry.Length;
        if (_carried > 0)
        {
            var take = Math.Min(frameBytes - _carried, data.Length);
            data[..take].CopyTo(_carry.AsSpan(_carried));
            _carried += take;
            data = data[take..];
            if (_carried < frameBytes)
            {
                return;
            }

            Decode(_carry, emit);
            _carried = 0;
        }

        var whole = data.Length / frameBytes * frameBytes;
        Decode(data[..whole], emit);
        data[whole..].CopyTo(_carry);
        _carried = data.Length - whole;
    }

    /// <summary>Writes <paramref name="byteCount"/> bytes' worth of silence (a packet the device flagged silent).</summary>
    public void WriteSilence(int byteCount, Action<AudioFrame> emit)
    {
        Span<byte> zeros = stackalloc byte[480];
        zeros.Clear();
        while (byteCount > 0)
        {
            var count = Math.Min(zeros.Length, byteCount);
            Write(zeros[..count], emit);
            byteCount -= count;
        }
    }

    private void Decode(ReadOnlySpan<byte> data, Action<AudioFrame> emit)
    {
        while (!data.IsEmpty)
        {
            var room = _block.Length - _blockFill;
            var samples = Math.Min(room, data.Length / _bytesPerSample);
            var destination = _block.AsSpan(_blockFill, samples);
            var bytes = data[..(samples * _bytesPerSample)];
            switch (_kind)
            {
                case SampleKind.Float32:
                    Pcm16.FromFloat(MemoryMarshal.Cast<byte, float>(bytes), destination);
                    break;
                case SampleKind.Float64:
                    for (var i = 0; i < samples; i++)
                    {
                        destination[i] = (short)Math.Clamp(Math.Round(BinaryPrimitives.ReadDoubleLittleEndian(bytes[(i * 8)..]) * short.MaxValue), short.MinValue, short.MaxValue);
                    }

                    break;
                case SampleKind.Int16:
                    MemoryMarshal.Cast<byte, short>(bytes).CopyTo(destination);
                    break;
                case SampleKind.Int24:
                    for (var i = 0; i < samples; i++)
                    {
                        // Keep the top 16 of the 24 bits.
                        destination[i] = (short)(bytes[i * 3 + 1] | (bytes[i * 3 + 2] << 8));
                    }

                    break;
                case SampleKind.Int32:
                    for (var i = 0; i < samples; i++)
                    {
                        destination[i] = (short)(BinaryPrimitives.ReadInt32LittleEndian(bytes[(i * 4)..]) >> 16);
                    }

                    break;
            }

            _blockFill += samples;
            data = data[bytes.Length..];
            if (_blockFill == _block.Length)
            {
                EmitBlock(emit);
                _blockFill = 0;
            }
        }
    }

    private void EmitBlock(Action<AudioFrame> emit)
    {
        var timestamp = TimeSpan.FromMilliseconds(20 * _framesEmitted++);
        using var deviceFrame = AudioFrame.Copy(_device, _block.AsSpan(), timestamp);
        emit(AudioConversion.Convert(deviceFrame, _target));
    }

    private static (SampleKind Kind, int BytesPerSample) Classify(WaveFormat format)
    {
        var encoding = format.Encoding;
        if (encoding == WaveFormatEncoding.Extensible && format is WaveFormatExtensible extensible)
        {
            encoding = extensible.SubFormat == AudioMediaSubtypes.MEDIASUBTYPE_IEEE_FLOAT ? WaveFormatEncoding.IeeeFloat
                : extensible.SubFormat == AudioMediaSubtypes.MEDIASUBTYPE_PCM ? WaveFormatEncoding.Pcm
                : WaveFormatEncoding.Unknown;
        }

        return (encoding, format.BitsPerSample, format.BlockAlign == format.Channels * format.BitsPerSample / 8) switch
        {
            (WaveFormatEncoding.IeeeFloat, 32, true) => (SampleKind.Float32, 4),
            (WaveFormatEncoding.IeeeFloat, 64, true) => (SampleKind.Float64, 8),
            (WaveFormatEncoding.Pcm, 16, true) => (SampleKind.Int16, 2),
            (WaveFormatEncoding.Pcm, 24, true) => (SampleKind.Int24, 3),
            (WaveFormatEncoding.Pcm, 32, true) => (SampleKind.Int32, 4),
            _ => throw new AudioInputException($"The capture device's format ({Describe(format)}) cannot be decoded; expected 16/24/32-bit PCM or 32/64-bit float."),
        };
    }

    private static string Describe(WaveFormat format) =>
        $"{format.Encoding}{(format is WaveFormatExtensible e ? $" {e.SubFormat}" : string.Empty)}, {format.BitsPerSample}-bit, {format.SampleRate} Hz, {format.Channels} ch";

    private enum SampleKind
    {
        Float32,
        Float64,
        Int16,
        Int24,
        Int32,
    }
}
