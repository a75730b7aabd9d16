using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using AvatarKit.Recording.Session;
using AvatarKit.Recording.Tests.Support;

namespace AvatarKit.Recording.Tests;

/// <summary>What happens when the encoder is slow, killed, the disk fills up, or FFmpeg or the directory is missing.</summary>
public sealed class FailureTests : IDisposable
{
    private readonly TestOutput _output = new();
    private readonly InProcessRoomServer _server = new();

    [Fact]
    public async Task A_slow_encoder_drops_video_frames_counts_them_keeps_every_beep_and_memory_bounded()
    {
        MediaProbe.SkipWithoutFfmpeg();
        var ct = TestContext.Current.CancellationToken;
        var options = _output.Options(o =>
        {
            o.EncoderReadRate = 0.4;
            o.VideoQueueFrames = 8;
        });
        List<VideoFrame> handed = [];
        var maxAlive = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                lock (handed)
                {
                    maxAlive = Math.Max(maxAlive, handed.Count(f => !f.IsDisposed));
                }

                await Task.Delay(5, CancellationToken.None);
            }
        }, CancellationToken.None);

        var end = TimeSpan.FromSeconds(3);
        var recording = await new FfmpegSessionRecorder(options).StartAsync(
            new SessionRecordingRequest { SessionId = "slow", Video = RealTimeVideo(end, handed, ct), Audio = RealTimeAudio(end, ct) },
            ct);
        var failures = new List<RecordingErrorEventArgs>();
        recording.Failed += (_, e) => failures.Add(e);
        await Pacing.UntilReceivedAsync(recording, end);
        var result = await recording.CompleteAsync(ct);
        Assert.Empty(failures.Select(f => f.Exception.Message));
        await sampling.CancelAsync();
        await sampler;

        // Without dropping, all 75 frames would wait for the encoder; the queue holds 8, plus the one on screen and one in hand.
        Assert.InRange(maxAlive, 1, options.VideoQueueFrames + 3);
        Assert.All(handed, f => Assert.True(f.IsDisposed));
        Assert.InRange(result.DroppedVideoFrames, 10, 75);
        Assert.Equal(result.DroppedVideoFrames, recording.DroppedVideoFrames);
        var probe = await MediaProbe.ProbeAsync(result.SessionFilePath);
        Assert.InRange(probe.Duration, 2.9, 3.1);
        Assert.Equal(3, MediaProbe.BeepOnsets(await MediaProbe.DecodeAudioAsync(result.SessionFilePath)).Count);
        Assert.Contains($"\"droppedVideoFrames\": {result.DroppedVideoFrames}", await File.ReadAllTextAsync(result.SidecarFilePath!, ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_killed_encoder_leaves_a_playable_file_and_recording_goes_on_in_a_new_segment()
    {
        MediaProbe.SkipWithoutFfmpeg();
        var ct = TestContext.Current.CancellationToken;
        await using var avatar = await SyntheticAvatar.JoinAsync(_server, "kill");
        var viewer = await _server.JoinAsync("kill", "recorder", ct);
        var recording = (FfmpegSessionRecording)await new FfmpegSessionRecorder(_output.Options()).StartAsync(new SessionRecordingRequest { SessionId = "kill", Room = viewer }, ct);
        await recording.SourcesStarted.WaitAsync(ct);
        var failures = new List<RecordingErrorEventArgs>();
        recording.Failed += (_, e) => failures.Add(e);

        var killAt = TimeSpan.FromSeconds(3);
        var end = TimeSpan.FromSeconds(4.6);
        TimeSpan? writtenAtKill = null;
        await avatar.PublishAsync(TimeSpan.Zero, end, Pacing.RealTime(), onStep: t =>
        {
            if (t == killAt)
            {
                writtenAtKill = recording.WrittenDuration;
                Process.GetProcessById(recording.EncoderProcessId).Kill(); // SIGKILL
            }

            return Task.CompletedTask;
        });
        await Pacing.UntilReceivedAsync(recording, end);
        var result = await recording.CompleteAsync(ct);

        var failure = Assert.Single(failures);
        Assert.False(failure.RecordingStopped);
        Assert.IsType<RecordingException>(failure.Exception);
        var segments = recording.SegmentFiles;
        Assert.Equal(2, segments.Count);
        Assert.EndsWith("session_kill_part2.mp4", segments[1], StringComparison.Ordinal);
        var first = await MediaProbe.ProbeAsync(segments[0]);
        Assert.Equal("h264", first.Video.Codec);
        Assert.InRange(first.Duration, writtenAtKill!.Value.TotalSeconds - 1.0, writtenAtKill.Value.TotalSeconds + 0.05);
        Assert.True(await MediaProbe.CountDecodableFramesAsync(segments[0]) >= (int)((writtenAtKill.Value.TotalSeconds - 1.0) * 25));
        var second = await MediaProbe.ProbeAsync(segments[1]);
        Assert.InRange(second.Duration + first.Duration, end.TotalSeconds - 1.1, end.TotalSeconds + 0.1);
        Assert.InRange(result.Duration.TotalSeconds, end.TotalSeconds - 0.05, end.TotalSeconds + 0.05);
        await viewer.DisposeAsync();
    }

    [Fact]
    public async Task A_clip_spanning_an_encoder_crash_covers_its_whole_range_from_both_segments_in_time()
    {
        MediaProbe.SkipWithoutFfmpeg();
        var ct = TestContext.Current.CancellationToken;
        await using var avatar = await SyntheticAvatar.JoinAsync(_server, "span");
        var viewer = await _server.JoinAsync("span", "recorder", ct);
        var session = new FakeAvatarSession(viewer, "avatar");
        var options = _output.Options(o =>
        {
            o.ClipPreRoll = TimeSpan.FromMilliseconds(300);
            o.ClipPostRoll = TimeSpan.FromMilliseconds(500);
        });
        var recording = (FfmpegSessionRecording)await new FfmpegSessionRecorder(options).StartAsync(new SessionRecordingRequest { SessionId = "span", Avatar = session }, ct);
        await recording.SourcesStarted.WaitAsync(ct);

        // The answer runs from 1.0 s to 5.0 s; the live ffmpeg is killed at 3.2 s, in the middle of it.
        var killAt = TimeSpan.FromSeconds(3.2);
        await avatar.PublishAsync(TimeSpan.Zero, TimeSpan.FromSeconds(7), Pacing.RealTime(), onStep: t =>
        {
            if (t == TimeSpan.FromSeconds(1))
            {
                session.RaiseSpeaking(started: true, "a long answer");
            }
            else if (t == killAt)
            {
                Process.GetProcessById(recording.EncoderProcessId).Kill(); // SIGKILL
            }
            else if (t == TimeSpan.FromSeconds(5))
            {
                session.RaiseSpeaking(started: false, "a long answer");
            }

            return Task.CompletedTask;
        });
        await Pacing.UntilReceivedAsync(recording, TimeSpan.FromSeconds(7));
        var result = await recording.CompleteAsync(ct);
        Assert.Equal(2, recording.SegmentFiles.Count);

        var clip = Assert.Single(result.Clips);
        Assert.Equal("a long answer", clip.Text);
        Assert.InRange(clip.Start.TotalSeconds, 0.7 - 0.1, 0.7 + 0.05);
        Assert.InRange(clip.End.TotalSeconds, 5.5 - 0.1, 5.5 + 0.05);
        var length = (clip.End - clip.Start).TotalSeconds;
        var probe = await MediaProbe.ProbeAsync(clip.FilePath);
        Assert.Equal(("h264", 1280, 720), (probe.Video.Codec, probe.Video.Width, probe.Video.Height));
        Assert.InRange(probe.Duration, length - 0.1, length + 0.1);

        // The sidecar says which stretch the crash lost.
        using var sidecar = JsonDocument.Parse(await File.ReadAllTextAsync(result.SidecarFilePath!, ct));
        Assert.Equal(2, sidecar.RootElement.GetProperty("segments").GetArrayLength());
        var restartedAt = TimeSpan.FromSeconds(sidecar.RootElement.GetProperty("segments")[1].GetProperty("startSeconds").GetDouble());
        var gap = Assert.Single(Assert.Single(sidecar.RootElement.GetProperty("clips").EnumerateArray()).GetProperty("gaps").EnumerateArray());
        Assert.Equal(restartedAt.TotalSeconds, gap.GetProperty("endSeconds").GetDouble(), 3);
        Assert.InRange(gap.GetProperty("startSeconds").GetDouble(), restartedAt.TotalSeconds - 2, restartedAt.TotalSeconds);

        // After the kill at 3.2 s; how soon depends on how fast a new ffmpeg starts (slower on a loaded machine), but
        // at least the last beep (5.4 s) follows the restart.
        Assert.InRange(restartedAt.TotalSeconds, 2.6, 5.3);
        Assert.Contains("encoder crashed", gap.GetProperty("reason").GetString(), StringComparison.Ordinal);

        // Beeps (and white frames) from before the crash and after the restart sit where the session had them:
        // the part the crashed encoder lost is held, not cut out, so nothing after the splice moves.
        var beeps = MediaProbe.BeepOnsets(await MediaProbe.DecodeAudioAsync(clip.FilePath));
        var white = await MediaProbe.WhiteFrameOnsetsAsync(clip.FilePath);
        double[] marks = [1.4, 2.4, 3.4, 4.4, 5.4];
        double[] expected = [.. marks.Select(b => b - clip.Start.TotalSeconds)];
        Assert.All(beeps, b => Assert.Contains(expected, e => Math.Abs(b - e) <= 0.040));
        Assert.All(white, w => Assert.Contains(expected, e => Math.Abs(w - e) <= 0.045));
        Assert.Contains(beeps, b => Math.Abs(b - expected[0]) <= 0.040);
        var afterRestart = expected.Where((_, i) => marks[i] >= restartedAt.TotalSeconds + 0.05).ToList();
        Assert.All(afterRestart, e => Assert.Contains(beeps, b => Math.Abs(b - e) <= 0.040));
        Assert.Contains(white, w => Math.Abs(w - afterRestart[0]) <= 0.045);
        TestContext.Current.TestOutputHelper?.WriteLine($"restart at {restartedAt.TotalSeconds:0.000} s, lost from {gap.GetProperty("startSeconds").GetDouble():0.000} s; beeps {string.Join(", ", beeps.Select(b => b.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture)))}");
        await viewer.DisposeAsync();
    }

    [Fact]
    public async Task A_cancelled_completion_stops_cutting_clips_at_once_and_the_sidecar_lists_the_uncut_answers()
    {
        MediaProbe.SkipWithoutFfmpeg();
        var ct = TestContext.Current.CancellationToken;
        await using var avatar = await SyntheticAvatar.JoinAsync(_server, "cancel");
        var viewer = await _server.JoinAsync("cancel", "recorder", ct);
        var session = new FakeAvatarSession(viewer, "avatar");
        var recording = (FfmpegSessionRecording)await new FfmpegSessionRecorder(_output.Options()).StartAsync(new SessionRecordingRequest { SessionId = "cancel", Avatar = session }, ct);
        await recording.SourcesStarted.WaitAsync(ct);

        // Three answers wait to be cut when completion is cancelled (as when a host's shutdown timeout runs out).
        var end = TimeSpan.FromSeconds(4);
        await avatar.PublishAsync(TimeSpan.Zero, end, Pacing.Encoder(recording), onStep: async t =>
        {
            if (t.TotalSeconds is 0.4 or 1.6 or 2.8)
            {
                await Pacing.UntilReceivedAsync(recording, t);
                session.RaiseSpeaking(started: true, "answer");
            }
            else if (t.TotalSeconds is 1.2 or 2.4 or 3.6)
            {
                await Pacing.UntilReceivedAsync(recording, t);
                session.RaiseSpeaking(started: false, "answer");
            }
        });
        await Pacing.UntilReceivedAsync(recording, end);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => recording.CompleteAsync(new CancellationToken(canceled: true)));

        // The answers that ended less than a fragment margin before the end were still waiting; they are dropped,
        // and nothing goes on cutting in the background: no clip file appears later.
        Assert.InRange(recording.Clips.Count, 0, 1);
        await Task.Delay(TimeSpan.FromSeconds(2), ct);
        Assert.Equal(recording.Clips.Select(c => c.FilePath).Order(), Directory.GetFiles(_output.Directory, "voice_task_*").Order());
        // The sidecar lists the answers left uncut, so that they can be cut from the session file later.
        using var sidecar = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_output.Directory, "session_cancel.json"), ct));
        var uncut = sidecar.RootElement.GetProperty("uncutClips").EnumerateArray().ToList();
        Assert.Equal(3 - recording.Clips.Count, uncut.Count);
        Assert.InRange(uncut[^1].GetProperty("startSeconds").GetDouble(), 2.8 - 0.3 - 0.05, 2.8 - 0.3 + 0.05);
        Assert.InRange(uncut[^1].GetProperty("endSeconds").GetDouble(), 3.6 + 0.5 - 0.05, 3.6 + 0.5 + 0.05);
        var probe = await MediaProbe.ProbeAsync(recording.SessionFilePath);
        Assert.Equal("h264", probe.Video.Codec);
        await recording.DisposeAsync();
        await viewer.DisposeAsync();
    }

    [Fact]
    public async Task A_full_disk_stops_recording_cleanly_the_conversation_goes_on_and_what_was_written_plays()
    {
        MediaProbe.SkipWithoutFfmpeg();
        var options = _output.Options(o => o.OpenOutputStream = path => new LimitedStream(File.Create(path), capacity: 60_000));
        await AssertStopsCleanlyOnFullDiskAsync(options, "diskfull");
    }

    [Fact]
    public async Task A_full_tmpfs_stops_recording_cleanly_and_what_was_written_plays()
    {
        MediaProbe.SkipWithoutFfmpeg();
        var mountPoint = Path.Combine(_output.Directory, "tiny");
        Directory.CreateDirectory(mountPoint);
        var (_, error, code) = await MediaProbe.RunAsync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mountPoint]);
        Assert.SkipUnless(code == 0, $"A tmpfs cannot be mounted here (needs root/CAP_SYS_ADMIN): {error.Trim()}");
        try
        {
            await AssertStopsCleanlyOnFullDiskAsync(_output.Options(o => o.OutputDirectory = mountPoint), "tmpfs");
        }
        finally
        {
            await MediaProbe.RunAsync("umount", [mountPoint]);
        }
    }

    [Fact]
    public async Task Missing_ffmpeg_fails_at_start_naming_the_package_to_install()
    {
        var recorder = new FfmpegSessionRecorder(_output.Options(o => o.FfmpegPath = "/nonexistent/bin/ffmpeg"));
        var error = await Assert.ThrowsAsync<RecordingException>(() => recorder.StartAsync(new SessionRecordingRequest { SessionId = "x" }, TestContext.Current.CancellationToken));
        Assert.Contains("apt-get install ffmpeg", error.Message, StringComparison.Ordinal);
        Assert.Contains("FfmpegPath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_output_directory_that_cannot_be_created_fails_at_start()
    {
        MediaProbe.SkipWithoutFfmpeg();
        var file = Path.Combine(_output.Directory, "a-file");
        await File.WriteAllTextAsync(file, "not a directory", TestContext.Current.CancellationToken);
        var recorder = new FfmpegSessionRecorder(_output.Options(o => o.OutputDirectory = Path.Combine(file, "recordings")));
        var error = await Assert.ThrowsAsync<RecordingException>(() => recorder.StartAsync(new SessionRecordingRequest { SessionId = "x" }, TestContext.Current.CancellationToken));
        Assert.Contains("writable directory", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_options_fail_at_start_with_every_problem_named()
    {
        var recorder = new FfmpegSessionRecorder(_output.Options(o =>
        {
            o.Preset = "warp";
            o.Width = 1279;
            o.FrameRate = 7;
        }));
        var error = await Assert.ThrowsAsync<RecordingException>(() => recorder.StartAsync(new SessionRecordingRequest { SessionId = "x" }, TestContext.Current.CancellationToken));
        Assert.Contains("Preset 'warp'", error.Message, StringComparison.Ordinal);
        Assert.Contains("1279x720", error.Message, StringComparison.Ordinal);
        Assert.Contains("FrameRate is 7", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _output.Dispose();

    private async Task AssertStopsCleanlyOnFullDiskAsync(RecordingOptions options, string id)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var avatar = await SyntheticAvatar.JoinAsync(_server, id);
        var viewer = await _server.JoinAsync(id, "recorder", ct);
        var recording = (FfmpegSessionRecording)await new FfmpegSessionRecorder(options).StartAsync(new SessionRecordingRequest { SessionId = id, Room = viewer }, ct);
        await recording.SourcesStarted.WaitAsync(ct);
        var failed = new TaskCompletionSource<RecordingErrorEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        recording.Failed += (_, e) => failed.TrySetResult(e);
        var pace = Pacing.Encoder(recording, stopWaiting: () => failed.Task.IsCompleted);

        // The conversation goes on: media keeps flowing and the user's audio keeps being written after the failure.
        using var mic = AudioFrame.Rent(AudioFormat.Pcm16Mono16kHz, 1280, TimeSpan.Zero);
        mic.Samples.Clear();
        await avatar.PublishAsync(TimeSpan.Zero, TimeSpan.FromSeconds(15), pace, onStep: async t =>
        {
            using var frame = mic.Clone(t);
            await recording.WriteUserAudioAsync(frame, ct);
        });
        var error = await failed.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
        var result = await recording.CompleteAsync(ct);

        Assert.True(error.RecordingStopped);
        var exception = Assert.IsType<RecordingException>(error.Exception);
        Assert.Contains("No space left on device", exception.Message, StringComparison.Ordinal);
        Assert.Contains("playable", exception.Message, StringComparison.Ordinal);
        var probe = await MediaProbe.ProbeAsync(result.SessionFilePath);
        Assert.Equal("h264", probe.Video.Codec);
        Assert.True(probe.Duration >= 1.0, $"only {probe.Duration} s playable");
        Assert.True(await MediaProbe.CountDecodableFramesAsync(result.SessionFilePath) >= 25);
        await viewer.DisposeAsync();
    }

    private static async IAsyncEnumerable<VideoFrame> RealTimeVideo(TimeSpan end, List<VideoFrame> handed, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var pace = Pacing.RealTime();
        for (var t = TimeSpan.Zero; t < end; t += SyntheticAvatar.FrameDuration)
        {
            await pace(t);
            cancellationToken.ThrowIfCancellationRequested();
            var frame = SyntheticAvatar.Render(t);
            lock (handed)
            {
                handed.Add(frame);
            }

            yield return frame;
        }
    }

    private static async IAsyncEnumerable<AudioFrame> RealTimeAudio(TimeSpan end, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var pace = Pacing.RealTime();
        for (var t = TimeSpan.Zero; t < end; t += TimeSpan.FromMilliseconds(20))
        {
            await pace(t);
            cancellationToken.ThrowIfCancellationRequested();
            yield return SyntheticAvatar.Beep(t, TimeSpan.FromMilliseconds(20));
        }
    }
}
