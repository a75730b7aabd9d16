using System.Text.Json;
using System.Text.Json.Nodes;
using AvatarKit.Recording.Tests.Support;

namespace AvatarKit.Recording.Tests;

/// <summary>Cutting the clips a cancelled completion left uncut, later, from the files its sidecar lists.</summary>
public sealed class SessionClipsTests(UncutRecordingFixture recording) : IClassFixture<UncutRecordingFixture>, IDisposable
{
    private const double Frame = 0.040;
    private readonly TestOutput _output = new();

    [Fact]
    public async Task Uncut_clips_are_cut_from_one_segment_and_across_the_restart_listed_in_the_sidecar_and_a_second_run_cuts_nothing()
    {
        MediaProbe.SkipWithoutFfmpeg();
        var ct = TestContext.Current.CancellationToken;
        var sidecarPath = recording.CopyTo(_output);
        var uncut = UncutRanges(await File.ReadAllTextAsync(sidecarPath, ct));
        var reported = new List<RecordedClip>();

        // Options that differ from the recording's frame rate and audio layout: those are read from the session file.
        var options = _output.Options(o =>
        {
            o.FrameRate = 30;
            o.AudioLayout = RecordingAudioLayout.SeparateTracks;
        });

        var clips = await SessionClips.CutPendingAsync(sidecarPath, options, new Reporter(reported.Add), ct);

        Assert.Equal(3, clips.Count);
        Assert.Equal(clips, reported);
        Assert.Equal(UncutRecordingFixture.Answers.Select(a => a.Text), clips.Select(c => c.Text));
        for (var i = 0; i < 3; i++)
        {
            var clip = clips[i];
            Assert.Equal(_output.Directory, Path.GetDirectoryName(clip.FilePath));
            Assert.StartsWith("voice_task_", Path.GetFileName(clip.FilePath), StringComparison.Ordinal);
            Assert.InRange(clip.Start.TotalSeconds, uncut[i].Start - Frame, uncut[i].Start + 0.001);
            Assert.InRange(clip.End.TotalSeconds, uncut[i].End - 0.001, uncut[i].End + Frame);
            var probe = await MediaProbe.ProbeAsync(clip.FilePath);
            Assert.Equal(("h264", 1280, 720), (probe.Video.Codec, probe.Video.Width, probe.Video.Height));
            Assert.Equal("aac", Assert.Single(probe.Audio).Codec);
            TestContext.Current.TestOutputHelper?.WriteLine($"clip {i + 1}: {clip.Start.TotalSeconds:0.000}-{clip.End.TotalSeconds:0.000} s (uncut {uncut[i].Start:0.000}-{uncut[i].End:0.000})");
            await AssertLastsItsRangeAsync(clip);
        }

        // Cut across the restart on the recording's 25 fps grid.
        Assert.Equal(0, Math.Round(clips[1].Start.TotalSeconds * 25, 6) % 1);
        Assert.Equal(0, Math.Round(clips[1].End.TotalSeconds * 25, 6) % 1);

        // The beep of second 1 (at 1.4 s) is in the first clip where the session has it.
        var firstBeeps = MediaProbe.BeepOnsets(await MediaProbe.DecodeAudioAsync(clips[0].FilePath));
        Assert.Contains(firstBeeps, b => Math.Abs(b - (1.4 - clips[0].Start.TotalSeconds)) <= Frame);

        // The sidecar now lists them as clips, like live ones: file, range, text, the transcript of the range, and the lost stretch of the crash.
        var json = await File.ReadAllTextAsync(sidecarPath, ct);
        using (var sidecar = JsonDocument.Parse(json))
        {
            Assert.False(sidecar.RootElement.TryGetProperty("uncutClips", out _));
            var listed = sidecar.RootElement.GetProperty("clips").EnumerateArray().ToList();
            Assert.Equal(clips.Select(c => Path.GetFileName(c.FilePath)), listed.Select(c => c.GetProperty("file").GetString()));
            Assert.Equal(clips.Select(c => c.Start.TotalSeconds), listed.Select(c => c.GetProperty("startSeconds").GetDouble()));
            Assert.Equal(clips.Select(c => c.End.TotalSeconds), listed.Select(c => c.GetProperty("endSeconds").GetDouble()));
            Assert.Equal("a line during the second answer", Assert.Single(listed[1].GetProperty("transcript").EnumerateArray()).GetProperty("text").GetString());
            Assert.Empty(listed[0].GetProperty("transcript").EnumerateArray());
            Assert.False(listed[0].TryGetProperty("gaps", out _));
            var gap = Assert.Single(listed[1].GetProperty("gaps").EnumerateArray());
            var restart = sidecar.RootElement.GetProperty("segments")[1].GetProperty("startSeconds").GetDouble();
            Assert.Equal(restart, gap.GetProperty("endSeconds").GetDouble(), 3);
        }

        var again = await SessionClips.CutPendingAsync(sidecarPath, _output.Options(), cancellationToken: ct);

        Assert.Empty(again);
        Assert.Equal(json, await File.ReadAllTextAsync(sidecarPath, ct));
        Assert.Equal(3, Directory.GetFiles(_output.Directory, "voice_task_*").Length);
    }

    [Fact]
    public async Task A_clip_wholly_in_what_a_crash_lost_holds_the_last_picture_in_silence_and_keeps_its_length()
    {
        MediaProbe.SkipWithoutFfmpeg();
        var ct = TestContext.Current.CancellationToken;
        var sidecarPath = recording.CopyTo(_output);

        // The sidecar is made to say that the crashed segment was handed a second more than its file holds, and the
        // answer starts half-way into that second: nothing of the clip's first part can be read from the file.
        var playable = (await MediaProbe.ProbeAsync(Path.Combine(_output.Directory, "session_pending.mp4"))).Duration;
        var restart = Math.Round(playable + 1.0, 2);
        var node = JsonNode.Parse(await File.ReadAllTextAsync(sidecarPath, ct))!;
        node["segments"]![0]!["endSeconds"] = restart;
        node["segments"]![1]!["startSeconds"] = restart;
        node["uncutClips"] = new JsonArray(new JsonObject { ["startSeconds"] = restart - 0.5, ["endSeconds"] = restart + 1.0, ["text"] = "lost start" });
        await File.WriteAllTextAsync(sidecarPath, node.ToJsonString(), ct);

        var clip = Assert.Single(await SessionClips.CutPendingAsync(sidecarPath, _output.Options(), cancellationToken: ct));

        Assert.InRange((clip.End - clip.Start).TotalSeconds, 1.5 - Frame, 1.5 + Frame);
        await AssertLastsItsRangeAsync(clip);
        var audio = await MediaProbe.DecodeAudioAsync(clip.FilePath);
        Assert.True(MediaProbe.Peak(audio, 0, 0.45) < 100, "the lost half second is silent");
        using var sidecar = JsonDocument.Parse(await File.ReadAllTextAsync(sidecarPath, ct));
        var gap = Assert.Single(Assert.Single(sidecar.RootElement.GetProperty("clips").EnumerateArray()).GetProperty("gaps").EnumerateArray());
        Assert.Equal(clip.Start.TotalSeconds, gap.GetProperty("startSeconds").GetDouble(), 3);
        Assert.Equal(restart, gap.GetProperty("endSeconds").GetDouble(), 3);
    }

    [Fact]
    public async Task A_clip_past_where_the_last_file_really_ends_is_held_to_what_it_holds()
    {
        MediaProbe.SkipWithoutFfmpeg();
        var ct = TestContext.Current.CancellationToken;
        var sidecarPath = recording.CopyTo(_output);

        // As when completion was cancelled so early that the encoder was killed: the sidecar gives the last file a second
        // more than it holds, and the answer runs into that second.
        var node = JsonNode.Parse(await File.ReadAllTextAsync(sidecarPath, ct))!;
        var segment = node["segments"]![1]!;
        var start = segment["startSeconds"]!.GetValue<double>();
        var holds = (await MediaProbe.DecodedEndsAsync(Path.Combine(_output.Directory, "session_pending_part2.mp4"))).VideoEnd;
        segment["endSeconds"] = start + holds + 1.0;
        node["uncutClips"] = new JsonArray(new JsonObject { ["startSeconds"] = start + holds - 1.0, ["endSeconds"] = start + holds + 0.8, ["text"] = "cut short" });
        await File.WriteAllTextAsync(sidecarPath, node.ToJsonString(), ct);

        var clip = Assert.Single(await SessionClips.CutPendingAsync(sidecarPath, _output.Options(), cancellationToken: ct));

        Assert.InRange((clip.End - clip.Start).TotalSeconds, 1.0 - Frame, 1.0 + Frame);
        await AssertLastsItsRangeAsync(clip);
    }

    [Fact]
    public async Task A_missing_session_file_fails_naming_it_and_leaves_the_sidecar_unchanged()
    {
        MediaProbe.SkipWithoutFfmpeg();
        var ct = TestContext.Current.CancellationToken;
        var sidecarPath = recording.CopyTo(_output);
        var before = await File.ReadAllTextAsync(sidecarPath, ct);
        File.Delete(Path.Combine(_output.Directory, "session_pending_part2.mp4"));

        var error = await Assert.ThrowsAsync<FileNotFoundException>(() => SessionClips.CutPendingAsync(sidecarPath, _output.Options(), cancellationToken: ct));

        Assert.Equal(Path.Combine(_output.Directory, "session_pending_part2.mp4"), error.FileName);
        Assert.Contains("session_pending_part2.mp4", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(sidecarPath, ct));
        Assert.Empty(Directory.GetFiles(_output.Directory, "voice_task_*"));
    }

    [Fact]
    public async Task A_cancelled_run_keeps_the_sidecar_consistent_and_the_next_run_cuts_the_rest()
    {
        MediaProbe.SkipWithoutFfmpeg();
        var ct = TestContext.Current.CancellationToken;
        var sidecarPath = recording.CopyTo(_output);

        // Cancelled as soon as the first clip is listed: it stays, the other two stay uncut.
        using (var cancel = new CancellationTokenSource())
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                SessionClips.CutPendingAsync(sidecarPath, _output.Options(), new Reporter(_ => cancel.Cancel()), cancel.Token));
        }

        var (listed, uncut) = await ReadStateAsync(sidecarPath);
        Assert.Single(listed);
        Assert.Equal(2, uncut);
        Assert.Equal(listed, Directory.GetFiles(_output.Directory, "voice_task_*").Select(Path.GetFileName));

        // Cancelled while ffmpeg writes the next clip (or just after it, when ffmpeg wins the race): that clip is whole and listed, or absent and uncut.
        using (var cancel = new CancellationTokenSource())
        {
            var run = SessionClips.CutPendingAsync(sidecarPath, _output.Options(), cancellationToken: cancel.Token);
            while (!run.IsCompleted && Directory.GetFiles(_output.Directory, "voice_task_*").Length < 2)
            {
                await Task.Delay(2, ct);
            }

            await cancel.CancelAsync();
            try
            {
                await run;
            }
            catch (OperationCanceledException)
            {
                // Expected, unless the run finished first.
            }
        }

        (listed, uncut) = await ReadStateAsync(sidecarPath);
        Assert.Equal(3, listed.Count + uncut);
        Assert.Equal(listed.Order(), Directory.GetFiles(_output.Directory, "voice_task_*").Select(Path.GetFileName).Order());
        foreach (var file in listed)
        {
            Assert.Equal("h264", (await MediaProbe.ProbeAsync(Path.Combine(_output.Directory, file!))).Video.Codec);
        }

        var rest = await SessionClips.CutPendingAsync(sidecarPath, _output.Options(), cancellationToken: ct);

        Assert.Equal(uncut, rest.Count);
        (listed, uncut) = await ReadStateAsync(sidecarPath);
        Assert.Equal(3, listed.Count);
        Assert.Equal(0, uncut);
        Assert.Equal(UncutRecordingFixture.Answers.Select(a => a.Text), await ListedTextsAsync(sidecarPath));
    }

    [Fact]
    public async Task A_missing_or_corrupt_sidecar_fails_with_a_typed_error()
    {
        var ct = TestContext.Current.CancellationToken;
        var missing = Path.Combine(_output.Directory, "session_none.json");
        var notJson = Path.Combine(_output.Directory, "session_broken.json");
        var notSidecar = Path.Combine(_output.Directory, "session_other.json");
        await File.WriteAllTextAsync(notJson, "{ \"sessionId\": ", ct);
        await File.WriteAllTextAsync(notSidecar, "{ \"name\": \"something else\" }", ct);

        var notFound = await Assert.ThrowsAsync<FileNotFoundException>(() => SessionClips.CutPendingAsync(missing, cancellationToken: ct));
        var broken = await Assert.ThrowsAsync<InvalidDataException>(() => SessionClips.CutPendingAsync(notJson, cancellationToken: ct));
        var other = await Assert.ThrowsAsync<InvalidDataException>(() => SessionClips.CutPendingAsync(notSidecar, cancellationToken: ct));

        Assert.Equal(missing, notFound.FileName);
        Assert.Contains("is not a session sidecar", broken.Message, StringComparison.Ordinal);
        Assert.Contains("sessionId is missing", other.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_ffmpeg_fails_naming_the_package_to_install_and_leaves_the_sidecar_unchanged()
    {
        MediaProbe.SkipWithoutFfmpeg();
        var ct = TestContext.Current.CancellationToken;
        var sidecarPath = recording.CopyTo(_output);
        var before = await File.ReadAllTextAsync(sidecarPath, ct);

        var error = await Assert.ThrowsAsync<RecordingException>(() =>
            SessionClips.CutPendingAsync(sidecarPath, _output.Options(o => o.FfmpegPath = "/nonexistent/bin/ffmpeg"), cancellationToken: ct));

        Assert.Contains("apt-get install ffmpeg", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await File.ReadAllTextAsync(sidecarPath, ct));
    }

    public void Dispose() => _output.Dispose();

    /// <summary>Asserts that the clip's decoded video and audio each last its range, within a frame.</summary>
    private static async Task AssertLastsItsRangeAsync(RecordedClip clip)
    {
        var length = (clip.End - clip.Start).TotalSeconds;
        var (videoEnd, audioEnd) = await MediaProbe.DecodedEndsAsync(clip.FilePath);
        var name = Path.GetFileName(clip.FilePath);
        Assert.True(Math.Abs(videoEnd - length) <= Frame + 0.001, $"{name}: video lasts {videoEnd:0.000} s for a range of {length:0.000} s");
        Assert.True(Math.Abs(audioEnd - length) <= Frame + 0.001, $"{name}: audio lasts {audioEnd:0.000} s for a range of {length:0.000} s");
    }

    private static List<(double Start, double End)> UncutRanges(string json)
    {
        using var sidecar = JsonDocument.Parse(json);
        return [.. sidecar.RootElement.GetProperty("uncutClips").EnumerateArray().Select(c => (c.GetProperty("startSeconds").GetDouble(), c.GetProperty("endSeconds").GetDouble()))];
    }

    private static async Task<(List<string?> Listed, int Uncut)> ReadStateAsync(string sidecarPath)
    {
        using var sidecar = JsonDocument.Parse(await File.ReadAllTextAsync(sidecarPath));
        var listed = sidecar.RootElement.GetProperty("clips").EnumerateArray().Select(c => c.GetProperty("file").GetString()).ToList();
        var uncut = sidecar.RootElement.TryGetProperty("uncutClips", out var u) ? u.GetArrayLength() : 0;
        return (listed, uncut);
    }

    private static async Task<List<string?>> ListedTextsAsync(string sidecarPath)
    {
        using var sidecar = JsonDocument.Parse(await File.ReadAllTextAsync(sidecarPath));
        return [.. sidecar.RootElement.GetProperty("clips").EnumerateArray().Select(c => c.GetProperty("text").GetString())];
    }

    /// <summary>Reports on the caller's thread (<see cref="Progress{T}"/> would post to the thread pool).</summary>
    private sealed class Reporter(Action<RecordedClip> report) : IProgress<RecordedClip>
    {
        public void Report(RecordedClip value) => report(value);
    }
}
