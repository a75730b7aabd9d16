using System.Runtime.InteropServices;
using AvatarKit.LiveKit.Native;
using AvatarKit.LiveKit.Rooms;
using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using LiveKit.Proto;

namespace AvatarKit.Benchmarks.LiveKit;

/// <summary>
/// The managed half of receiving one 1280x720 frame from LiveKit's native SDK, as the dispatcher
/// does it: parse the FFI event, copy the picture once from native memory into a pooled
/// <see cref="VideoFrame"/>, queue it, and the reader takes and disposes it. At 30 fps the CPU
/// share of one core is (mean time x 30) per second.
/// </summary>
[MemoryDiagnoser]
public class VideoFrameHandOffBenchmarks : IDisposable
{
    private const int Width = 1280;
    private const int Height = 720;
    private IntPtr _native;
    private byte[] _eventBytes = [];
    private RemoteVideoStream _stream = null!;

    /// <summary>Gets or sets the layout the native side delivers.</summary>
    [Params(VideoPixelFormat.I420, VideoPixelFormat.Rgba)]
    public VideoPixelFormat Format { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var size = VideoFrame.GetByteCount(Width, Height, Format);
        _native = Marshal.AllocHGlobal(size);
        var grey = new byte[size];
        Array.Fill(grey, (byte)0x80);
        Marshal.Copy(grey, 0, _native, size);
        var data = (ulong)_native;
        var info = new VideoBufferInfo { Type = RemoteVideoStream.ToBufferType(Format), Width = Width, Height = Height, DataPtr = data };
        if (Format == VideoPixelFormat.Rgba)
        {
            info.Stride = Width * 4;
        }
        else
        {
            const int luma = Width * Height;
            const int chroma = Width / 2 * (Height / 2);
            info.Components.Add(new VideoBufferInfo.Types.ComponentInfo { DataPtr = data, Stride = Width, Size = luma });
            info.Components.Add(new VideoBufferInfo.Types.ComponentInfo { DataPtr = data + luma, Stride = Width / 2, Size = chroma });
            info.Components.Add(new VideoBufferInfo.Types.ComponentInfo { DataPtr = data + luma + chroma, Stride = Width / 2, Size = chroma });
        }

        // Handle id 0 is "none": the benchmark measures the managed work without the native drop call.
        _eventBytes = new FfiEvent
        {
            VideoStreamEvent = new VideoStreamEvent
            {
                StreamHandle = 1,
                FrameReceived = new VideoFrameReceived { Buffer = new OwnedVideoBuffer { Handle = new FfiOwnedHandle { Id = 0 }, Info = info }, TimestampUs = 1000 },
            },
        }.ToByteArray();
        _stream = new RemoteVideoStream(FfiHandle.Own(0), Format, capacity: 4, onDropped: static () => { });
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null!;
        Marshal.FreeHGlobal(_native);
        _native = IntPtr.Zero;
        GC.SuppressFinalize(this);
    }

    /// <summary>Parse, copy once into a pooled frame, queue, dequeue, dispose.</summary>
    /// <returns>The frame's length, so the work is not optimized away.</returns>
    [Benchmark]
    public int HandOff()
    {
        _stream.OnEvent(FfiEvent.Parser.ParseFrom(_eventBytes));
        _stream.Reader.TryRead(out var frame);
        var length = frame!.Length;
        frame.Dispose();
        return length;
    }
}
