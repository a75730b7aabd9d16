using System.Diagnostics;

namespace AvatarKit.Harness.Doubles;

/// <summary>
/// The media a remote avatar publishes into its session's room, in real time: 1280x720 I420 video at
/// 25 fps with moving content (so that a recorder's encoder has real work, as with a talking head) and
/// 48 kHz mono audio, a tone while the avatar speaks and silence otherwise. Used by <c>load --recording</c>.
/// </summary>
internal sealed class SimulatedAvatarMedia : IAsyncDisposable
{
    public const int Width = 1280;
    public const int Height = 720;
    private static readonly TimeSpan FrameDuration = TimeSpan.FromMilliseconds(40);
    private static readonly TimeSpan AudioFrameDuration = TimeSpan.FromMilliseconds(20);

    // Rendered once for every conversation of the process: the harness measures the recorder, not drawing.
    private static readonly Lazy<VideoFrame[]> Pictures = new(Render);

    private readonly IRealtimeRoom _room;
    private readonly ILocalVideoTrack _video;
    private readonly ILocalAudioTrack _audio;
    private readonly Func<bool> _speaking;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loops;
    private long _framesPublished;

    private SimulatedAvatarMedia(IRealtimeRoom room, ILocalVideoTrack video, ILocalAudioTrack audio, Func<bool> speaking)
    {
        _room = room;
        _video = video;
        _audio = audio;
        _speaking = speaking;
        var clock = Stopwatch.StartNew();
        _loops = Task.WhenAll(Task.Run(() => RunVideoAsync(clock, _stop.Token)), Task.Run(() => RunAudioAsync(clock, _stop.Token)));
    }

    /// <summary>Joins <paramref name="roomName"/> as <paramref name="identity"/> and starts publishing.</summary>
    /// <param name="server">The sandbox's rooms.</param>
    /// <param name="roomName">The session's room.</param>
    /// <param name="identity">The avatar's participant identity.</param>
    /// <param name="speaking">Whether the avatar speaks now (a tone instead of silence).</param>
    /// <returns>The publishing avatar.</returns>
    public static async Task<SimulatedAvatarMedia> StartAsync(InProcessRoomServer server, string roomName, string identity, Func<bool> speaking)
    {
        var room = await server.JoinAsync(roomName, identity).ConfigureAwait(false);
        var video = await room.PublishVideoAsync("avatar-video", Width, Height).ConfigureAwait(false);
        var audio = await room.PublishAudioAsync("avatar-audio", AudioFormat.Pcm16Mono48kHz).ConfigureAwait(false);
        return new SimulatedAvatarMedia(room, video, audio, speaking);
    }

    /// <summary>Gets how many video frames were published.</summary>
    public long FramesPublished => Interlocked.Read(ref _framesPublished);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loops.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _video.DisposeAsync().ConfigureAwait(false);
        await _audio.DisposeAsync().ConfigureAwait(false);
        await _room.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private static VideoFrame[] Render()
    {
        var frames = new VideoFrame[25];
        for (var n = 0; n < frames.Length; n++)
        {
            var frame = VideoFrame.Rent(Width, Height, VideoPixelFormat.I420, TimeSpan.Zero);
            var y = frame.PlaneY;
            for (var row = 0; row < Height; row++)
            {
                for (var x = 0; x < Width; x++)
                {
                    y[(row * Width) + x] = (byte)((x + row + (8 * n)) & 0xFF);
                }
            }

            frame.PlaneU.Fill((byte)(100 + n));
            frame.PlaneV.Fill(128);
            frames[n] = frame;
        }

        return frames;
    }

    private async Task RunVideoAsync(Stopwatch clock, CancellationToken cancellationToken)
    {
        var pictures = Pictures.Value;
        try
        {
            for (long n = 0; !cancellationToken.IsCancellationRequested; n++)
            {
                // Stamped by the avatar's own clock; sent when due (late under load, like a real publisher).
                var t = n * FrameDuration;
                if (t - clock.Elapsed is { Ticks: > 0 } wait)
                {
                    await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                }

                using var frame = pictures[n % pictures.Length].Clone(t);
                await _video.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _framesPublished);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunAudioAsync(Stopwatch clock, CancellationToken cancellationToken)
    {
        var format = AudioFormat.Pcm16Mono48kHz;
        var bytes = format.GetByteCount(AudioFrameDuration);
        try
        {
            for (long n = 0; !cancellationToken.IsCancellationRequested; n++)
            {
                var t = n * AudioFrameDuration;
                if (t - clock.Elapsed is { Ticks: > 0 } wait)
                {
                    await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                }

                using var frame = AudioFrame.Rent(format, bytes, t);
                var samples = frame.Samples;
                var speaking = _speaking();
                for (var i = 0; i < samples.Length; i++)
                {
                    samples[i] = speaking ? (short)(8_000 * Math.Sin(2 * Math.PI * 220 * ((n * samples.Length) + i) / 48_000)) : (short)0;
                }

                await _audio.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}
