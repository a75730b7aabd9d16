using System.Buffers;
using System.Runtime.InteropServices;

namespace AvatarKit;

/// <summary>A chunk of PCM16 audio in a pooled buffer, with its format and timestamp.</summary>
public sealed class AudioFrame : MediaFrame
{
    private AudioFrame(AudioFormat format, int length, TimeSpan timestamp, ArrayPool<byte>? pool)
        : base(length, timestamp, pool)
    {
        Format = format;
    }

    /// <summary>Gets the format of the samples.</summary>
    public AudioFormat Format { get; }

    /// <summary>Gets the number of sample frames (samples per channel).</summary>
    public int SampleCount => Length / Format.BlockAlign;

    /// <summary>Gets how long the frame plays.</summary>
    public TimeSpan Duration => Format.GetDuration(Length);

    /// <summary>Gets the interleaved samples.</summary>
    /// <exception cref="ObjectDisposedException">The frame was disposed.</exception>
    public Span<short> Samples => MemoryMarshal.Cast<byte, short>(Span);

    /// <summary>Rents a frame of <paramref name="byteCount"/> bytes; its contents are unspecified until written.</summary>
    /// <param name="format">The audio format.</param>
    /// <param name="byteCount">A whole number of sample frames, in bytes.</param>
    /// <param name="timestamp">The time of the first sample in its stream.</param>
    /// <returns>A frame the caller owns.</returns>
    /// <exception cref="ArgumentException"><paramref name="byteCount"/> is not a multiple of the format's block size.</exception>
    public static AudioFrame Rent(AudioFormat format, int byteCount, TimeSpan timestamp) => Rent(format, byteCount, timestamp, pool: null);

    /// <summary>Creates a frame holding a copy of <paramref name="pcm"/>.</summary>
    /// <param name="format">The audio format.</param>
    /// <param name="pcm">PCM16 bytes, a whole number of sample frames.</param>
    /// <param name="timestamp">The time of the first sample in its stream.</param>
    /// <returns>A frame the caller owns.</returns>
    public static AudioFrame Copy(AudioFormat format, ReadOnlySpan<byte> pcm, TimeSpan timestamp)
    {
        var frame = Rent(format, pcm.Length, timestamp);
        pcm.CopyTo(frame.Span);
        return frame;
    }

    /// <summary>Creates a frame holding a copy of <paramref name="samples"/>.</summary>
    /// <param name="format">The audio format.</param>
    /// <param name="samples">Interleaved samples, a whole number of sample frames.</param>
    /// <param name="timestamp">The time of the first sample in its stream.</param>
    /// <returns>A frame the caller owns.</returns>
    public static AudioFrame Copy(AudioFormat format, ReadOnlySpan<short> samples, TimeSpan timestamp) =>
        Copy(format, MemoryMarshal.AsBytes(samples), timestamp);

    /// <summary>Creates an independent copy of this frame, optionally at another timestamp.</summary>
    /// <param name="timestamp">The copy's timestamp; this frame's when null.</param>
    /// <returns>A frame the caller owns.</returns>
    public AudioFrame Clone(TimeSpan? timestamp = null) => Copy(Format, Span, timestamp ?? Timestamp);

    internal static AudioFrame Rent(AudioFormat format, int byteCount, TimeSpan timestamp, ArrayPool<byte>? pool)
    {
        if (format.SampleRate == 0)
        {
            throw new ArgumentException("The audio format is not initialized.", nameof(format));
        }

        if (byteCount < 0 || byteCount % format.BlockAlign != 0)
        {
            throw new ArgumentException(
                $"An audio frame of {format} holds whole sample frames of {format.BlockAlign} bytes; {byteCount} bytes is not one.",
                nameof(byteCount));
        }

        return new AudioFrame(format, byteCount, timestamp, pool);
    }
}
