using AvatarKit.LiveKit.Native;
using LiveKit.Proto;

namespace AvatarKit.LiveKit.Rooms;

/// <summary>PCM16 frames of a remote audio track, resampled natively to the requested format.</summary>
internal sealed class RemoteAudioStream(FfiHandle stream, int capacity, Action onDropped)
    : RemoteMediaStream<AudioFrame>(stream, capacity, onDropped)
{
    private long _samples;

    /// <inheritdoc />
    protected override unsafe AudioFrame? CopyFrame(FfiEvent ffiEvent)
    {
        var received = ffiEvent.AudioStreamEvent.FrameReceived;
        if (received is null)
        {
            return null;
        }

        using var buffer = FfiHandle.Own(received.Frame.Handle);
        var info = received.Frame.Info;
        var format = new AudioFormat((int)info.SampleRate, (int)info.NumChannels);
        var bytes = checked((int)(info.SamplesPerChannel * info.NumChannels * AudioFormat.BytesPerSample));
        var timestamp = TimeSpan.FromSeconds((double)_samples / info.SampleRate);
        _samples += info.SamplesPerChannel;
        return AudioFrame.Copy(format, new ReadOnlySpan<byte>((void*)info.DataPtr, bytes), timestamp);
    }
}
