using System.Buffers;

namespace AvatarKit;

/// <summary>A video picture in a pooled buffer, tightly packed (stride = width), with its timestamp.</summary>
public sealed class VideoFrame : MediaFrame
{
    private VideoFrame(int width, int height, VideoPixelFormat pixelFormat, TimeSpan timestamp, ArrayPool<byte>? pool)
        : base(GetByteCount(width, height, pixelFormat), timestamp, pool)
    {
        Width = width;
        Height = height;
        PixelFormat = pixelFormat;
    }

    /// <summary>Gets the width in pixels.</summary>
    public int Width { get; }

    /// <summary>Gets the height in pixels.</summary>
    public int Height { get; }

    /// <summary>Gets the pixel layout.</summary>
    public VideoPixelFormat PixelFormat { get; }

    /// <summary>Gets the Y plane of an <see cref="VideoPixelFormat.I420"/> frame.</summary>
    /// <exception cref="InvalidOperationException">The frame is not I420.</exception>
    public Span<byte> PlaneY => I420Span[..(Width * Height)];

    /// <summary>Gets the U plane of an <see cref="VideoPixelFormat.I420"/> frame.</summary>
    /// <exception cref="InvalidOperationException">The frame is not I420.</exception>
    public Span<byte> PlaneU => I420Span.Slice(Width * Height, ChromaWidth * ChromaHeight);

    /// <summary>Gets the V plane of an <see cref="VideoPixelFormat.I420"/> frame.</summary>
    /// <exception cref="InvalidOperationException">The frame is not I420.</exception>
    public Span<byte> PlaneV => I420Span[(Width * Height + ChromaWidth * ChromaHeight)..];

    /// <summary>Gets the width of the U and V planes of an I420 frame.</summary>
    public int ChromaWidth => (Width + 1) / 2;

    /// <summary>Gets the height of the U and V planes of an I420 frame.</summary>
    public int ChromaHeight => (Height + 1) / 2;

    private Span<byte> I420Span => PixelFormat == VideoPixelFormat.I420
        ? Span
        : throw new InvalidOperationException($"The frame is {PixelFormat}; planes exist only in I420 frames.");

    /// <summary>Gets the bytes a tightly packed picture of the given size and layout takes.</summary>
    /// <param name="width">Width in pixels, 1 to 16,384.</param>
    /// <param name="height">Height in pixels, 1 to 16,384.</param>
    /// <param name="pixelFormat">The layout.</param>
    /// <returns>The byte count: w*h*3/2 for even-sized I420, w*h*4 for RGBA.</returns>
    public static int GetByteCount(int width, int height, VideoPixelFormat pixelFormat)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(width, 16_384);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(height, 16_384);
        return pixelFormat switch
        {
            VideoPixelFormat.I420 => width * height + 2 * ((width + 1) / 2) * ((height + 1) / 2),
            VideoPixelFormat.Rgba => width * height * 4,
            _ => throw new ArgumentOutOfRangeException(nameof(pixelFormat), pixelFormat, "Unknown pixel format."),
        };
    }

    /// <summary>Rents a frame; its pixels are unspecified until written.</summary>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    /// <param name="pixelFormat">The layout.</param>
    /// <param name="timestamp">The presentation time in its stream.</param>
    /// <returns>A frame the caller owns.</returns>
    public static VideoFrame Rent(int width, int height, VideoPixelFormat pixelFormat, TimeSpan timestamp) =>
        new(width, height, pixelFormat, timestamp, pool: null);

    /// <summary>Creates a frame holding a copy of <paramref name="pixels"/>.</summary>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    /// <param name="pixelFormat">The layout.</param>
    /// <param name="pixels">Tightly packed pixels; exactly <see cref="GetByteCount"/> bytes.</param>
    /// <param name="timestamp">The presentation time in its stream.</param>
    /// <returns>A frame the caller owns.</returns>
    /// <exception cref="ArgumentException"><paramref name="pixels"/> has the wrong size.</exception>
    public static VideoFrame Copy(int width, int height, VideoPixelFormat pixelFormat, ReadOnlySpan<byte> pixels, TimeSpan timestamp)
    {
        var expected = GetByteCount(width, height, pixelFormat);
        if (pixels.Length != expected)
        {
            throw new ArgumentException(
                $"A {width}x{height} {pixelFormat} frame takes {expected} bytes; {pixels.Length} were given.", nameof(pixels));
        }

        var frame = Rent(width, height, pixelFormat, timestamp);
        pixels.CopyTo(frame.Span);
        return frame;
    }

    /// <summary>Creates an independent copy of this frame, optionally at another timestamp.</summary>
    /// <param name="timestamp">The copy's timestamp; this frame's when null.</param>
    /// <returns>A frame the caller owns.</returns>
    public VideoFrame Clone(TimeSpan? timestamp = null) => Copy(Width, Height, PixelFormat, Span, timestamp ?? Timestamp);

    /// <summary>Returns a copy of this frame in <paramref name="pixelFormat"/> (BT.601 limited range); the caller owns it.</summary>
    /// <param name="pixelFormat">The layout of the copy.</param>
    /// <returns>A new frame with this frame's timestamp.</returns>
    public VideoFrame ConvertTo(VideoPixelFormat pixelFormat)
    {
        if (pixelFormat == PixelFormat)
        {
            return Clone();
        }

        var result = Rent(Width, Height, pixelFormat, Timestamp);
        if (pixelFormat == VideoPixelFormat.Rgba)
        {
            PixelConversion.I420ToRgba(this, result.Span);
        }
        else
        {
            PixelConversion.RgbaToI420(Span, result);
        }

        return result;
    }

    internal static VideoFrame Rent(int width, int height, VideoPixelFormat pixelFormat, TimeSpan timestamp, ArrayPool<byte>? pool) =>
        new(width, height, pixelFormat, timestamp, pool);
}
