namespace AvatarKit;

/// <summary>The pixel layouts a <see cref="VideoFrame"/> can hold.</summary>
public enum VideoPixelFormat
{
    /// <summary>Planar YUV 4:2:0: a full-size Y plane, then quarter-size U and V planes (chroma sizes round up).</summary>
    I420,

    /// <summary>Packed 8-bit red, green, blue, alpha; four bytes per pixel.</summary>
    Rgba,
}
