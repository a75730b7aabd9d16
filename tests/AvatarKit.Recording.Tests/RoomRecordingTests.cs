using System.Text.Json;
using AvatarKit.Recording.Session;
using AvatarKit.Recording.Tests.Support;

namespace AvatarKit.Recording.Tests;

/// <summary>Records a synthetic avatar from an in-process room with real FFmpeg and checks the file with ffprobe.</summary>
public sealed class RoomRecordingTests : IDisposable
{
    private readonly TestOutput _output = new();
    private readonly InProcessRoomServer _server = new();

    [Fact]
    public async Task Recording_a_room_has_the_right_duration_size_codecs_and_beeps_in_sync_with_their_frames()
    {
        MediaProbe.SkipWithoutFfmpeg();
        var ct = TestContext.Current.CancellationToken;
        await using var avatar = await SyntheticAvatar.JoinAsync(_server, "sync");
        var viewer = await _server.JoinAsync("sync", "recorder", ct);
        var recorder = new FfmpegSessionRecorder(_output.Options());
        var recording = await recorder.StartAsync(new SessionRecordingRequest { SessionId = "sync", Room = viewer, ParticipantIdentity = "avatar" }, ct);
        await ((FfmpegSessionRecording)recording).SourcesStarted.WaitAsync(ct);

        var end = TimeSpan.FromSeconds(10);
        await avatar.PublishAsync(TimeSpan.Zero, end, Pacing.Encoder(recording));
        await Pacing.UntilReceivedAsync(recording, end);
        var result = await recording.CompleteAsync(ct);

        var probe = await MediaProbe.ProbeAsync(result.SessionFilePath);
        Assert.Equal(Path.Combine(_output.Directory, "session_sync.mp4"), result.SessionFilePath);
        Assert.InRange(probe.Duration, 9.9, 10.1);
        Assert.Equal(TimeSpan.FromSeconds(10), result.Duration);
        Assert.Equal(("h264", 1280, 720), (probe.Video.Codec, probe.Video.Width, probe.Video.Height));
        Assert.Equal("aac", Assert.Single(probe.Audio).Codec);
        Assert.Equal(0, result.DroppedVideoFrames);
        Assert.Equal(250, await MediaProbe.CountDecodableFramesAsync(result.SessionFilePath));

        var white = await MediaProbe.WhiteFrameOnsetsAsync(result.SessionFilePath);
        var beeps = MediaProbe.BeepOnsets(await MediaProbe.DecodeAudioAsync(result.SessionFilePath));
        Assert.Equal(10, white.Count);
        Assert.Equal(10, beeps.Count);
        for (var i = 0; i < 10; i++)
        {
            Assert.True(Math.Abs(beeps[i] - white[i]) <= 0.040, $"beep {beeps[i]:0.000} vs white frame {white[i]:0.000}");
            Assert.InRange(white[i], i + SyntheticAvatar.MarkerOffset - 0.001, i + SyntheticAvatar.MarkerOffset + 0.05);
        }

        Assert.True(File.Exists(result.SidecarFilePath));
        await viewer.DisposeAsync();
    }

    [Fact]
    public async Task Idle_video_repeats_the_last_picture_and_missing_audio_becomes_silence_without_drift()
    {
        MediaProbe.SkipWithoutFfmpeg();
        var ct = TestContext.Current.CancellationToken;
        await using var avatar = await SyntheticAvatar.JoinAsync(_server, "idle");
        var viewer = await _server.JoinAsync("idle", "recorder", ct);
        var recording = await new FfmpegSessionRecorder(_output.Options()).StartAsync(new SessionRecordingRequest { SessionId = "idle", Room = viewer }, ct);
        await ((FfmpegSessionRecording)recording).SourcesStarted.WaitAsync(ct);

        // No video from 2.5 s to 4.5 s (the avatar idles); no audio from 5.5 s to 6.5 s (a network gap).
        var end = TimeSpan.FromSeconds(8);
        await avatar.PublishAsync(
            TimeSpan.Zero,
            end,
            Pacing.Encoder(recording),
            video: t => t.TotalSeconds is < 2.5 or >= 4.5,
            audio: t => t.TotalSeconds is < 5.5 or >= 6.5);
        await Pacing.UntilReceivedAsync(recording, end);
        var result = await recording.CompleteAsync(ct);

        var probe = await MediaProbe.ProbeAsync(result.SessionFilePath);
        Assert.InRange(probe.Duration, 7.9, 8.1);
        Assert.Equal(200, await MediaProbe.CountDecodableFramesAsync(result.SessionFilePath));
        var white = await MediaProbe.WhiteFrameOnsetsAsync(result.SessionFilePath);
        var audio = await MediaProbe.DecodeAudioAsync(result.SessionFilePath);
        var beeps = MediaProbe.BeepOnsets(audio);

        // Seconds 3 and 4 have no new white frame (the dark picture of 2.48 s repeats), second 6 has no beep.
        Assert.Equal([0d, 1, 2, 5, 6, 7], white.Select(w => Math.Floor(w)));
        Assert.Equal([0d, 1, 2, 3, 4, 5, 7], beeps.Select(b => Math.Floor(b)));
        Assert.InRange(MediaProbe.Peak(audio, 5.6, 6.45), 0, 200);
        foreach (var second in new[] { 0, 1, 2, 5, 7 })
        {
            Assert.InRange(Math.Abs(white.Single(w => Math.Floor(w) == second) - beeps.Single(b => Math.Floor(b) == second)), 0, 0.040);
        }

        await viewer.DisposeAsync();
    }

    [Fact]
    public async Task A_stalled_room_keeps_the_recording_moving_in_real_time_and_resumes_in_sync()
    {
        MediaProbe.SkipWithoutFfmpeg();
        var ct = TestContext.Current.CancellationToken;
        await using var avatar = await SyntheticAvatar.JoinAsync(_server, "stall");
        var viewer = await _server.JoinAsync("stall", "recorder", ct);
        var options = _output.Options(o => o.IdleAfter = TimeSpan.FromMilliseconds(500));
        var recording = await new FfmpegSessionRecorder(options).StartAsync(new SessionRecordingRequest { SessionId = "stall", Room = viewer }, ct);
        await ((FfmpegSessionRecording)recording).SourcesStarted.WaitAsync(ct);

        // Real time; nothing at all arrives from 1.5 s to 2.5 s, then a burst-free resume with the avatar's own timestamps.
        var end = TimeSpan.FromSeconds(4);
        await avatar.PublishAsync(
            TimeSpan.Zero,
            end,
            Pacing.RealTime(),
            video: t => t.TotalSeconds is < 1.5 or >= 2.5,
            audio: t => t.TotalSeconds is < 1.5 or >= 2.5);
        await Pacing.UntilReceivedAsync(recording, end);
        var result = await recording.CompleteAsync(ct);

        var probe = await MediaProbe.ProbeAsync(result.SessionFilePath);
        Assert.InRange(probe.Duration, 3.9, 4.2);
        var white = await MediaProbe.WhiteFrameOnsetsAsync(result.SessionFilePath);
        var beeps = MediaProbe.BeepOnsets(await MediaProbe.DecodeAudioAsync(result.SessionFilePath));
        Assert.Equal(3, white.Count);
        Assert.Equal(3, beeps.Count);
        for (var i = 0; i < 3; i++)
        {
            Assert.InRange(Math.Abs(beeps[i] - white[i]), 0, 0.040);
        }

        // Second 3 lands where it belongs after the stall: no drift from the gap.
        Assert.InRange(white[2], 3.35, 3.6);
        await viewer.DisposeAsync();
    }

    [Fact]
    public async Task Three_answers_give_three_clips_with_the_right_ranges_and_a_sidecar()
    {
        MediaProbe.SkipWithoutFfmpeg();
        var ct = TestContext.Current.CancellationToken;
        await using var avatar = await SyntheticAvatar.JoinAsync(_server, "clips");
        var viewer = await _server.JoinAsync("clips", "recorder", ct);
        var session = new FakeAvatarSession(viewer, "avatar");
        var options = _output.Options(o =>
        {
            o.ClipPreRoll = TimeSpan.FromMilliseconds(300);
            o.ClipPostRoll = TimeSpan.FromMilliseconds(500);
        });
        var recording = await new FfmpegSessionRecorder(options).StartAsync(new SessionRecordingRequest { SessionId = "clips", Avatar = session }, ct);
        await ((FfmpegSessionRecording)recording).SourcesStarted.WaitAsync(ct);

        (double Start, double End)[] answers = [(1.0, 2.0), (3.0, 4.4), (5.2, 6.2)];
        var end = TimeSpan.FromSeconds(7.2);
        await avatar.PublishAsync(TimeSpan.Zero, end, Pacing.Encoder(recording), onStep: async t =>
        {
            for (var i = 0; i < answers.Length; i++)
            {
                if (Math.Abs(t.TotalSeconds - answers[i].Start) < 0.001 || Math.Abs(t.TotalSeconds - answers[i].End) < 0.001)
                {
                    // The avatar says so when its media up to now is out (fed faster than real time here, so wait for it).
                    await Pacing.UntilReceivedAsync(recording, t);
                }

                if (Math.Abs(t.TotalSeconds - answers[i].Start) < 0.001)
                {
                    recording.AddTranscript("user", $"question {i + 1}");
                    session.RaiseSpeaking(started: true, $"answer {i + 1}");
                }
                else if (Math.Abs(t.TotalSeconds - answers[i].End) < 0.001)
                {
                    session.RaiseSpeaking(started: false, $"answer {i + 1}");
                }
            }
        });
        await Pacing.UntilReceivedAsync(recording, end);
        var result = await recording.CompleteAsync(ct);

        Assert.Equal(3, result.Clips.Count);
        for (var i = 0; i < 3; i++)
        {
            var clip = result.Clips[i];
            Assert.Matches(@"voice_task_\d{8}_\d{6}_\d{3}(_\d+)?\.mp4$", Path.GetFileName(clip.FilePath));
            Assert.Equal(_output.Directory, Path.GetDirectoryName(clip.FilePath));
            Assert.Equal($"answer {i + 1}", clip.Text);
            Assert.InRange(clip.Start.TotalSeconds, answers[i].Start - 0.3 - 0.001, answers[i].Start - 0.3 + 0.001);
            Assert.InRange(clip.End.TotalSeconds, answers[i].End + 0.5 - 0.001, answers[i].End + 0.5 + 0.001);
            var probe = await MediaProbe.ProbeAsync(clip.FilePath);
            Assert.InRange(probe.Duration, (clip.End - clip.Start).TotalSeconds - 0.1, (clip.End - clip.Start).TotalSeconds + 0.1);
            Assert.Equal("h264", probe.Video.Codec);
            Assert.Equal("aac", Assert.Single(probe.Audio).Codec);
        }

        using var sidecar = JsonDocument.Parse(await File.ReadAllTextAsync(result.SidecarFilePath!, ct));
        var clips = sidecar.RootElement.GetProperty("clips").EnumerateArray().ToList();
        Assert.Equal(3, clips.Count);
        Assert.Equal(Path.GetFileName(result.Clips[1].FilePath), clips[1].GetProperty("file").GetString());
        Assert.Equal("question 2", Assert.Single(clips[1].GetProperty("transcript").EnumerateArray()).GetProperty("text").GetString());
        Assert.Equal(3, sidecar.RootElement.GetProperty("transcript").GetArrayLength());
        await viewer.DisposeAsync();
    }

    [Fact]
    public async Task User_audio_is_kept_as_a_second_track_when_asked()
    {
        MediaProbe.SkipWithoutFfmpeg();
        var ct = TestContext.Current.CancellationToken;
        await using var avatar = await SyntheticAvatar.JoinAsync(_server, "tracks");
        var viewer = await _server.JoinAsync("tracks", "recorder", ct);
        var recording = await new FfmpegSessionRecorder(_output.Options(o => o.AudioLayout = RecordingAudioLayout.SeparateTracks))
            .StartAsync(new SessionRecordingRequest { SessionId = "tracks", Room = viewer }, ct);
        await ((FfmpegSessionRecording)recording).SourcesStarted.WaitAsync(ct);

        // The user speaks (a 16 kHz tone) from 1 s to 2 s; the avatar's beeps stay on the first track.
        var end = TimeSpan.FromSeconds(3);
        await avatar.PublishAsync(TimeSpan.Zero, end, Pacing.Encoder(recording), onStep: async t =>
        {
            // The microphone has its own clock, anchored where the session is when its first frame arrives;
            // fed faster than real time, "where the session is" must be waited for (after the avatar's first frame).
            if (t == TimeSpan.Zero)
            {
                return;
            }

            await Pacing.UntilReceivedAsync(recording, t);
            using var mic = Tone(t, TimeSpan.FromMilliseconds(40), loud: t.TotalSeconds is >= 1 and < 2);
            await recording.WriteUserAudioAsync(mic, ct);
        });
        await Pacing.UntilReceivedAsync(recording, end);
        var result = await recording.CompleteAsync(ct);

        var probe = await MediaProbe.ProbeAsync(result.SessionFilePath);
        Assert.Equal(2, probe.Audio.Count);
        var user = await MediaProbe.DecodeAudioAsync(result.SessionFilePath, track: 1);
        var avatarTrack = await MediaProbe.DecodeAudioAsync(result.SessionFilePath, track: 0);
        Assert.InRange(MediaProbe.Peak(user, 1.2, 1.8), 8_000, short.MaxValue);
        Assert.InRange(MediaProbe.Peak(user, 2.3, 2.9), 0, 200);
        Assert.InRange(MediaProbe.Peak(avatarTrack, 1.6, 2.3), 0, 200);
        Assert.Equal(3, MediaProbe.BeepOnsets(avatarTrack).Count);
        Assert.InRange(probe.Duration, 2.9, 3.1);
        await viewer.DisposeAsync();
    }

    public void Dispose() => _output.Dispose();

    private static AudioFrame Tone(TimeSpan t, TimeSpan duration, bool loud)
    {
        var format = AudioFormat.Pcm16Mono16kHz;
        var frame = AudioFrame.Rent(format, format.GetByteCount(duration), t);
        var first = (long)Math.Round(t.TotalSeconds * 16_000);
        var samples = frame.Samples;
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = loud ? (short)(12_000 * Math.Sin(2 * Math.PI * 440 * (first + i) / 16_000)) : (short)0;
        }

        return frame;
    }
}
