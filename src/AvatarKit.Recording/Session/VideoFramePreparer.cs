namespace AvatarKit.Recording.Session;

/// <summary>Brings received frames to what the encoder's raw input expects: I420 at the recording's size.</summary>
internal static class VideoFramePreparer
{
    /// <summary>Returns <paramref name="frame"/> as I420 at <paramref name="width"/> x <paramref name="height"/>; disposes the input when it returns a new frame.</summary>
    /// <param name="frame">A frame the caller owns.</param>
    /// <param name="width">The recording's width.</param>
    /// <param name="height">The recording's height.</param>
    /// <returns>A frame the caller owns.</returns>
    public static VideoFrame Prepare(VideoFrame frame, int width, int height)
    {
        if (frame.PixelFormat != VideoPixelFormat.I420)
        {
            var converted = frame.ConvertTo(VideoPixelFormat.I420);
            frame.Dispose();
            frame = converted;
        }

        if (frame.Width == width && frame.Height == height)
        {
            return frame;
        }

        // Nearest-neighbour: a size change is rare (a quality switch mid-session) and must not cost a filter graph restart.
        var scaled = VideoFrame.Rent(width, height, VideoPixelFormat.I420, frame.Timestamp);
        Scale(frame.PlaneY, frame.Width, frame.Height, scaled.PlaneY, width, height);
        Scale(frame.PlaneU, frame.ChromaWidth, frame.ChromaHeight, scaled.PlaneU, scaled.ChromaWidth, scaled.ChromaHeight);
        Scale(frame.PlaneV, frame.ChromaWidth, frame.ChromaHeight, scaled.PlaneV, scaled.ChromaWidth, scaled.ChromaHeight);
        frame.Dispose();
        return scaled;
    }

    /// <summary>Fills an I420 buffer with black (limited range).</summary>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    /// <returns>The bytes of one black frame.</returns>
    public static byte[] Black(int width, int height)
    {
        var bytes = new byte[VideoFrame.GetByteCount(width, height, VideoPixelFormat.I420)];
        bytes.AsSpan(0, width * height).Fill(16);
        bytes.AsSpan(width * height).Fill(128);
        return bytes;
    }

    private static void Scale(ReadOnlySpan<byte> source, int sourceWidth, int sourceHeight, Span<byte> destination, int width, int height)
    {
        for (var y = 0; y < height; y++)
        {
            var row = source.Slice(y * sourceHeight / height * sourceWidth, sourceWidth);
            var target = destination.Slice(y * width, width);
            for (var x = 0; x < width; x++)
            {
                target[x] = row[x * sourceWidth / width];
            }
        }
    }
}
