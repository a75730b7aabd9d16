using AvatarKit.LiveKit.Native;
using LiveKit.Proto;

namespace AvatarKit.LiveKit.Rooms;

/// <summary>Decoded frames of a remote video track, converted natively to the requested layout.</summary>
internal sealed class RemoteVideoStream(FfiHandle stream, VideoPixelFormat pixelFormat, int capacity, Action onDropped)
    : RemoteMediaStream<VideoFrame>(stream, capacity, onDropped)
{
    private long _firstTimestampUs = -1;

    /// <summary>Gets the native buffer type that matches a pixel format.</summary>
    /// <param name="pixelFormat">The format.</param>
    /// <returns>The buffer type.</returns>
    internal static VideoBufferType ToBufferType(VideoPixelFormat pixelFormat) =>
        pixelFormat == VideoPixelFormat.Rgba ? VideoBufferType.Rgba : VideoBufferType.I420;

    /// <summary>Copies a native picture into a tightly packed pooled frame (the one copy per frame).</summary>
    /// <param name="info">The native buffer description; its memory must be valid.</param>
    /// <param name="pixelFormat">The layout the buffer has.</param>
    /// <param name="timestamp">The frame's timestamp.</param>
    /// <returns>The frame.</returns>
    internal static unsafe VideoFrame Copy(VideoBufferInfo info, VideoPixelFormat pixelFormat, TimeSpan timestamp)
    {
        var width = (int)info.Width;
        var height = (int)info.Height;
        var frame = VideoFrame.Rent(width, height, pixelFormat, timestamp);
        var target = frame.Span;
        if (pixelFormat == VideoPixelFormat.Rgba)
        {
            var stride = info.HasStride && info.Stride != 0 ? (int)info.Stride : width * 4;
            CopyPlane((byte*)info.DataPtr, stride, target, width * 4, height);
        }
        else
        {
            var chromaWidth = (width + 1) / 2;
            var chromaHeight = (height + 1) / 2;
            var y = info.Components[0];
            var u = info.Components[1];
            var v = info.Components[2];
            CopyPlane((byte*)y.DataPtr, (int)y.Stride, target, width, height);
            CopyPlane((byte*)u.DataPtr, (int)u.Stride, target[(width * height)..], chromaWidth, chromaHeight);
            CopyPlane((byte*)v.DataPtr, (int)v.Stride, target[(width * height + chromaWidth * chromaHeight)..], chromaWidth, chromaHeight);
        }

        return frame;
    }

    /// <inheritdoc />
    protected override VideoFrame? CopyFrame(FfiEvent ffiEvent)
    {
        var received = ffiEvent.VideoStreamEvent.FrameReceived;
        if (received is null)
        {
            return null;
        }

        using var buffer = FfiHandle.Own(received.Buffer.Handle);
        var info = received.Buffer.Info;
        if (info.Type != ToBufferType(pixelFormat))
        {
            return null;
        }

        if (_firstTimestampUs < 0)
        {
            _firstTimestampUs = received.TimestampUs;
        }

        var timestamp = TimeSpan.FromMicroseconds(Math.Max(0, received.TimestampUs - _firstTimestampUs));
        return Copy(info, pixelFormat, timestamp);
    }

    private static unsafe void CopyPlane(byte* source, int sourceStride, Span<byte> target, int rowBytes, int rows)
    {
        if (sourceStride == rowBytes)
        {
            new ReadOnlySpan<byte>(source, rowBytes * rows).CopyTo(target);
            return;
        }

        for (var row = 0; row < rows; row++)
        {
            new ReadOnlySpan<byte>(source + (long)row * sourceStride, rowBytes).CopyTo(target.Slice(row * rowBytes, rowBytes));
        }
    }
}
