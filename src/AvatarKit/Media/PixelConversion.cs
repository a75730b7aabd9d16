namespace AvatarKit;

/// <summary>I420 ↔ RGBA conversion with BT.601 limited-range coefficients in integer arithmetic.</summary>
internal static class PixelConversion
{
    public static void I420ToRgba(VideoFrame source, Span<byte> rgba)
    {
        var y = source.PlaneY;
        var u = source.PlaneU;
        var v = source.PlaneV;
        var width = source.Width;
        var chromaWidth = source.ChromaWidth;
        for (var row = 0; row < source.Height; row++)
        {
            for (var col = 0; col < width; col++)
            {
                var c = y[row * width + col] - 16;
                var chroma = (row / 2) * chromaWidth + col / 2;
                var d = u[chroma] - 128;
                var e = v[chroma] - 128;
                var o = (row * width + col) * 4;
                rgba[o] = Clip((298 * c + 409 * e + 128) >> 8);
                rgba[o + 1] = Clip((298 * c - 100 * d - 208 * e + 128) >> 8);
                rgba[o + 2] = Clip((298 * c + 516 * d + 128) >> 8);
                rgba[o + 3] = 255;
            }
        }
    }

    public static void RgbaToI420(ReadOnlySpan<byte> rgba, VideoFrame destination)
    {
        var y = destination.PlaneY;
        var u = destination.PlaneU;
        var v = destination.PlaneV;
        var width = destination.Width;
        var height = destination.Height;
        for (var row = 0; row < height; row++)
        {
            for (var col = 0; col < width; col++)
            {
                var o = (row * width + col) * 4;
                int r = rgba[o], g = rgba[o + 1], b = rgba[o + 2];
                y[row * width + col] = (byte)(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16);
            }
        }

        // Chroma from the average of each 2x2 block (clamped at odd edges).
        for (var row = 0; row < destination.ChromaHeight; row++)
        {
            for (var col = 0; col < destination.ChromaWidth; col++)
            {
                int r = 0, g = 0, b = 0;
                for (var dy = 0; dy < 2; dy++)
                {
                    for (var dx = 0; dx < 2; dx++)
                    {
                        var o = (Math.Min(row * 2 + dy, height - 1) * width + Math.Min(col * 2 + dx, width - 1)) * 4;
                        r += rgba[o];
                        g += rgba[o + 1];
                        b += rgba[o + 2];
                    }
                }

                r /= 4;
                g /= 4;
                b /= 4;
                var index = row * destination.ChromaWidth + col;
                u[index] = (byte)(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128);
                v[index] = (byte)(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128);
            }
        }
    }

    private static byte Clip(int value) => (byte)Math.Clamp(value, 0, 255);
}
