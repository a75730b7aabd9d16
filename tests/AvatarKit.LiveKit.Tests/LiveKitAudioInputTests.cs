using System.Runtime.CompilerServices;
using AvatarKit.Speech.Capture;
using AvatarKit.Testing;

namespace AvatarKit.LiveKit.Tests;

/// <summary>Streaming an <see cref="IAudioInput"/> into a published track, heard by another participant.</summary>
[Collection(LiveKitTestGroup.Name)]
public sealed class LiveKitAudioInputTests(LiveKitServerFixture fixture)
{
    [Fact]
    public async Task A_WAV_file_input_is_heard_by_another_participant_as_its_440_Hz_tone_and_completes_at_its_end()
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard();
        var wav = Path.Combine(Path.GetTempPath(), $"avatarkit-lk-tone-{Guid.NewGuid():N}.wav");
        try
        {
            // 16 kHz stereo, so the input converts to the track's 48 kHz mono.
            await WriteToneWavAsync(wav, new AudioFormat(16_000, 2), TimeSpan.FromSeconds(3), ct);
            await using var listener = await fixture.JoinAvatarRoomAsync("viewer-wav-listener", ct);
            await using var speaker = await fixture.JoinAvatarRoomAsync("viewer-wav-speaker", ct);

            await using var track = await speaker.PublishAudioAsync("wav", StreamAudioInput.FromWavFile(wav, realTime: true), cancellationToken: ct);
            Assert.Equal(AudioFormat.Pcm16Mono48kHz, track.Format);
            Assert.EndsWith(".wav", track.InputName, StringComparison.Ordinal);

            var remote = await listener.WaitForTrackAsync("viewer-wav-speaker", RoomTrackKind.Audio, ct);
            Assert.Equal(track.Track.Sid, remote.Sid);
            var heard = await ListenAsync(listener, remote, TimeSpan.FromSeconds(1), ct);
            var frequency = LiveKitTestMedia.EstimateFrequency(heard, 48_000);
            Assert.InRange(frequency, LiveKitTestMedia.ToneFrequency - 5, LiveKitTestMedia.ToneFrequency + 5);

            await track.Completion.WaitAsync(ct); // the file ended: streaming completes by itself
            Assert.InRange(track.FramesSent, 140, 160); // 3 s of 20 ms frames
        }
        finally
        {
            File.Delete(wav);
        }
    }

    [Fact]
    public async Task An_input_delivering_another_format_is_converted_and_streaming_stops_on_cancellation_then_dispose_unpublishes()
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard();
        await using var listener = await fixture.JoinAvatarRoomAsync("viewer-input-listener", ct);
        await using var speaker = await fixture.JoinAvatarRoomAsync("viewer-input-speaker", ct);
        var input = new FixedFormatToneInput(new AudioFormat(24_000, 2));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);

        var track = await speaker.PublishAudioAsync("tone", input, AudioFormat.Pcm16Mono48kHz, stop.Token);
        var remote = await listener.WaitForTrackAsync("viewer-input-speaker", RoomTrackKind.Audio, ct);
        var heard = await ListenAsync(listener, remote, TimeSpan.FromSeconds(1), ct);
        Assert.InRange(LiveKitTestMedia.EstimateFrequency(heard, 48_000), LiveKitTestMedia.ToneFrequency - 5, LiveKitTestMedia.ToneFrequency + 5);
        Assert.True(input.FramesAskedInWrongFormat > 0);

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => track.Completion.WaitAsync(ct));
        Assert.True(input.Stopped, "the input's capture ended");
        var sent = track.FramesSent;
        var stats = Assert.Single(await speaker.GetTrackStatsAsync(track.Track, ct), s => s.Direction == LiveKitRtpDirection.Outbound);
        Assert.True(stats.Packets > 0);

        await track.DisposeAsync();
        await track.DisposeAsync(); // idempotent
        Assert.Equal(sent, track.FramesSent);
        await Assert.ThrowsAsync<InvalidOperationException>(() => speaker.GetTrackStatsAsync(track.Track, ct)); // unpublished
    }

    [Fact]
    public async Task An_input_that_fails_faults_the_completion_with_its_error()
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard();
        await using var speaker = await fixture.JoinAvatarRoomAsync("viewer-input-broken", ct);
        await using var track = await speaker.PublishAudioAsync("broken", new FixedFormatToneInput(AudioFormat.Pcm16Mono48kHz, failAfterFrames: 10), cancellationToken: ct);

        var error = await Assert.ThrowsAsync<AudioInputException>(() => track.Completion.WaitAsync(ct));
        Assert.Contains("device unplugged", error.Message, StringComparison.Ordinal);
        Assert.Equal(10, track.FramesSent);
    }

    private static async Task<short[]> ListenAsync(LiveKitRoom room, RoomTrack track, TimeSpan duration, CancellationToken ct)
    {
        var samples = new List<short>();
        var wanted = (int)(48_000 * duration.TotalSeconds) + 9_600;
        await foreach (var frame in room.ReadAudioAsync(track, AudioFormat.Pcm16Mono48kHz, ct))
        {
            using (frame)
            {
                // Silence plays until the first packets arrive: keep what follows the tone's start.
                if (samples.Count > 0 || frame.Samples.IndexOfAnyExceptInRange((short)-1000, (short)1000) >= 0)
                {
                    samples.AddRange(frame.Samples.ToArray());
                }
            }

            if (samples.Count >= wanted)
            {
                break;
            }
        }

        return [.. samples.Skip(9_600)]; // past the decoder's ramp-up
    }

    private static async Task WriteToneWavAsync(string path, AudioFormat format, TimeSpan duration, CancellationToken ct)
    {
        var frames = (int)(format.SampleRate * duration.TotalSeconds);
        using var tone = LiveKitTestMedia.CreateToneFrame(format, 0, frames);
        await using var file = File.Create(path);
        using var writer = new BinaryWriter(file);
        var data = tone.Length;
        writer.Write("RIFF"u8);
        writer.Write(36 + data);
        writer.Write("WAVEfmt "u8);
        writer.Write(16);
        writer.Write((short)1);
        writer.Write((short)format.Channels);
        writer.Write(format.SampleRate);
        writer.Write(format.SampleRate * format.BlockAlign);
        writer.Write((short)format.BlockAlign);
        writer.Write((short)16);
        writer.Write("data"u8);
        writer.Write(data);
        writer.Write(tone.Span);
        await file.FlushAsync(ct);
    }

    /// <summary>An input that ignores the asked format (allowed by nobody, handled anyway), paced in real time.</summary>
    private sealed class FixedFormatToneInput(AudioFormat format, int failAfterFrames = -1) : IAudioInput
    {
        private int _wrongFormat;

        public string Name => "tone";

        public int FramesAskedInWrongFormat => Volatile.Read(ref _wrongFormat);

        public bool Stopped { get; private set; }

        public async IAsyncEnumerable<AudioFrame> CaptureAsync(AudioFormat requested, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var perFrame = format.SampleRate / 50;
            var started = DateTime.UtcNow;
            try
            {
                for (var n = 0L; ; n++)
                {
                    if (n == failAfterFrames)
                    {
                        throw new AudioInputException("The microphone failed: device unplugged.");
                    }

                    var due = started + TimeSpan.FromMilliseconds(20 * n) - DateTime.UtcNow;
                    if (due > TimeSpan.Zero)
                    {
                        await Task.Delay(due, cancellationToken);
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                    if (requested != format)
                    {
                        Interlocked.Increment(ref _wrongFormat);
                    }

                    yield return LiveKitTestMedia.CreateToneFrame(format, n * perFrame, perFrame);
                }
            }
            finally
            {
                Stopped = true;
            }
        }
    }
}
