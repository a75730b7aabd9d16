namespace AvatarKit.Recording.Tests.Support;

/// <summary>
/// A participant of an in-process room that publishes 1280x720 I420 video at 25 fps and 48 kHz
/// mono audio: every frame shows its number as a row of bit blocks, the frame at 0.4 s past each
/// second is white, and the audio carries a 100 ms 1 kHz beep starting at the same instant (not at
/// 0 s, where the AAC encoder's start-up transient would blur the first onset).
/// </summary>
internal sealed class SyntheticAvatar : IAsyncDisposable
{
    public const int Width = 1280;
    public const int Height = 720;
    /// <summary>Where in each second the white frame and the beep are.</summary>
    public const double MarkerOffset = 0.4;

    public static readonly TimeSpan FrameDuration = TimeSpan.FromMilliseconds(40);
    private static readonly TimeSpan AudioFrameDuration = TimeSpan.FromMilliseconds(20);
    private readonly IRealtimeRoom _room;
    private readonly ILocalVideoTrack _video;
    private readonly ILocalAudioTrack _audio;

    private SyntheticAvatar(IRealtimeRoom room, ILocalVideoTrack video, ILocalAudioTrack audio)
    {
        _room = room;
        _video = video;
        _audio = audio;
    }

    public static async Task<SyntheticAvatar> JoinAsync(InProcessRoomServer server, string roomName, string identity = "avatar")
    {
        var room = await server.JoinAsync(roomName, identity);
        var video = await room.PublishVideoAsync("camera", Width, Height);
        var audio = await room.PublishAudioAsync("voice", AudioFormat.Pcm16Mono48kHz);
        return new SyntheticAvatar(room, video, audio);
    }

    /// <summary>Publishes media for <c>[from, to)</c>, one 40 ms step at a time.</summary>
    /// <param name="from">First timestamp.</param>
    /// <param name="to">End timestamp.</param>
    /// <param name="pace">Awaited before each step with the step's timestamp (real time, or "encoder caught up").</param>
    /// <param name="video">Whether to publish video at a timestamp (idle gaps when false).</param>
    /// <param name="audio">Whether to publish audio at a timestamp.</param>
    /// <param name="onStep">Awaited before each step (speaking events, clips, user audio).</param>
    public async Task PublishAsync(TimeSpan from, TimeSpan to, Func<TimeSpan, Task> pace, Func<TimeSpan, bool>? video = null, Func<TimeSpan, bool>? audio = null, Func<TimeSpan, Task>? onStep = null)
    {
        for (var t = from; t < to; t += FrameDuration)
        {
            if (onStep is not null)
            {
                await onStep(t);
            }

            await pace(t);
            if (video?.Invoke(t) ?? true)
            {
                using var frame = Render(t);
                await _video.WriteAsync(frame);
            }

            for (var a = t; a < t + FrameDuration; a += AudioFrameDuration)
            {
                if (audio?.Invoke(a) ?? true)
                {
                    using var frame = Beep(a, AudioFrameDuration);
                    await _audio.WriteAsync(frame);
                }
            }
        }
    }

    public static VideoFrame Render(TimeSpan t)
    {
        var n = (int)Math.Round(t / FrameDuration);
        var frame = VideoFrame.Rent(Width, Height, VideoPixelFormat.I420, t);
        frame.PlaneY.Fill(n % 25 == 10 ? (byte)235 : (byte)60);
        frame.PlaneU.Fill(128);
        frame.PlaneV.Fill(128);

        // The frame counter: 16 blocks of 64x64 along the bottom, white for a set bit.
        var y0 = Height - 96;
        for (var bit = 0; bit < 16; bit++)
        {
            var value = ((n >> bit) & 1) == 1 ? (byte)235 : (byte)16;
            for (var y = y0; y < y0 + 64; y++)
            {
                frame.PlaneY.Slice((y * Width) + 16 + (bit * 78), 64).Fill(value);
            }
        }

        return frame;
    }

    public static AudioFrame Beep(TimeSpan t, TimeSpan duration)
    {
        var format = AudioFormat.Pcm16Mono48kHz;
        var frame = AudioFrame.Rent(format, format.GetByteCount(duration), t);
        var first = (long)Math.Round(t.TotalSeconds * 48_000);
        var samples = frame.Samples;
        for (var i = 0; i < samples.Length; i++)
        {
            var s = first + i;
            samples[i] = s % 48_000 is >= 19_200 and < 24_000 ? (short)(16_000 * Math.Sin(2 * Math.PI * 1_000 * s / 48_000)) : (short)0;
        }

        return frame;
    }

    public async ValueTask DisposeAsync()
    {
        await _video.DisposeAsync();
        await _audio.DisposeAsync();
        await _room.DisposeAsync();
    }
}
