using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using CliWrap.Buffered;

namespace AvatarKit.Cli.Tests;

/// <summary><c>avatarkit clips</c>: cutting the clips recordings left uncut, for every sidecar in a directory.</summary>
public sealed class ClipsTests
{
    private static readonly TimeSpan FrameDuration = TimeSpan.FromMilliseconds(40);

    [Fact]
    public async Task Clips_cuts_what_every_sidecar_in_the_directory_lists_as_uncut_and_fails_with_1_on_a_missing_session_file()
    {
        Assert.SkipUnless(await FfmpegAvailableAsync(), "ffmpeg/ffprobe are not installed (apt-get install ffmpeg).");
        var ct = TestContext.Current.CancellationToken;
        using var cli = new CliProcess();
        Directory.CreateDirectory(cli.OutputDirectory);

        // One small real recording with two answers, as if its finish had been cut short: its clips are listed as uncut, not on disk.
        var sidecar = await RecordAsync(cli.OutputDirectory, ct);
        var node = JsonNode.Parse(await File.ReadAllTextAsync(sidecar, ct))!;
        var uncut = new JsonArray();
        foreach (var clip in node["clips"]!.AsArray())
        {
            File.Delete(Path.Combine(cli.OutputDirectory, clip!["file"]!.GetValue<string>()));
            uncut.Add(new JsonObject { ["startSeconds"] = clip["startSeconds"]!.GetValue<double>(), ["endSeconds"] = clip["endSeconds"]!.GetValue<double>(), ["text"] = clip["text"]!.GetValue<string>() });
        }

        Assert.Equal(2, uncut.Count);
        node["clips"] = new JsonArray();
        node["uncutClips"] = uncut;
        await File.WriteAllTextAsync(sidecar, node.ToJsonString(), ct);

        // A second session in the same directory: the same media under another name.
        File.Copy(Path.Combine(cli.OutputDirectory, "session_cli.mp4"), Path.Combine(cli.OutputDirectory, "session_copy.mp4"));
        node["sessionId"] = "copy";
        node["segments"]![0]!["file"] = "session_copy.mp4";
        await File.WriteAllTextAsync(Path.Combine(cli.OutputDirectory, "session_copy.json"), node.ToJsonString(), ct);

        var (exitCode, output) = await cli.RunAsync(["clips"], cancellationToken: ct);

        Assert.True(exitCode == 0, output);
        Assert.Contains("4 clip(s) cut from 2 sidecar(s)", output, StringComparison.Ordinal);
        var clips = Directory.GetFiles(cli.OutputDirectory, "voice_task_*.mp4");
        Assert.Equal(4, clips.Length);
        foreach (var clip in clips)
        {
            Assert.Contains(clip, output, StringComparison.Ordinal);
            var probe = await CliWrap.Cli.Wrap("ffprobe").WithArguments(["-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", clip]).ExecuteBufferedAsync(ct);
            Assert.Equal(["audio", "video"], probe.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order());
        }

        foreach (var name in new[] { "session_cli.json", "session_copy.json" })
        {
            var cut = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(cli.OutputDirectory, name), ct))!;
            Assert.Equal(2, cut["clips"]!.AsArray().Count);
            Assert.Null(cut["uncutClips"]);
        }

        // A sidecar whose session file is gone: that one fails (exit 1), the others have nothing left to cut.
        node["sessionId"] = "broken";
        node["segments"]![0]!["file"] = "session_broken.mp4";
        await File.WriteAllTextAsync(Path.Combine(cli.OutputDirectory, "session_broken.json"), node.ToJsonString(), ct);

        (exitCode, output) = await cli.RunAsync(["clips", "outputs"], cancellationToken: ct);

        Assert.True(exitCode == 1, output);
        Assert.Contains("✗ session_broken.json", output, StringComparison.Ordinal);
        Assert.Contains("session_broken.mp4", output, StringComparison.Ordinal);
        Assert.Contains("session_cli.json: no uncut clips", output, StringComparison.Ordinal);
        Assert.Equal(4, Directory.GetFiles(cli.OutputDirectory, "voice_task_*.mp4").Length);
    }

    /// <summary>Records 2.4 s of small synthetic video and audio with two answers; returns the sidecar.</summary>
    private static async Task<string> RecordAsync(string directory, CancellationToken cancellationToken)
    {
        var options = new RecordingOptions { OutputDirectory = directory, Preset = "ultrafast", Width = 320, Height = 240 };
        var length = TimeSpan.FromSeconds(2.4);
        var clock = Stopwatch.StartNew();
        ISessionRecording? recording = null;
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var videoDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var audioDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        recording = await new FfmpegSessionRecorder(options).StartAsync(
            new SessionRecordingRequest { SessionId = "cli", Video = Video(cancellationToken), Audio = Audio(cancellationToken) },
            cancellationToken);
        started.SetResult();

        // Completing stops reading: first let both sources hand over everything.
        await Task.WhenAll(videoDone.Task, audioDone.Task).WaitAsync(cancellationToken);
        var result = await recording.CompleteAsync(cancellationToken);
        Assert.Equal(2, result.Clips.Count);
        return result.SidecarFilePath!;

        async IAsyncEnumerable<VideoFrame> Video([EnumeratorCancellation] CancellationToken ct = default)
        {
            await started.Task;
            for (var t = TimeSpan.Zero; t < length; t += FrameDuration)
            {
                await PaceAsync(t, ct);

                // Two answers: 0.4–1.0 s and 1.4–1.8 s.
                var ms = (int)t.TotalMilliseconds;
                if (ms is 400 or 1400)
                {
                    recording!.BeginClip(ms == 400 ? "first answer" : "second answer");
                }
                else if (ms is 1000 or 1800)
                {
                    recording!.EndClip();
                }

                var frame = VideoFrame.Rent(options.Width, options.Height, VideoPixelFormat.I420, t);
                frame.PlaneY.Fill((byte)(40 + (ms / 40 % 50 * 4)));
                frame.PlaneU.Fill(128);
                frame.PlaneV.Fill(128);
                yield return frame;
            }

            videoDone.SetResult();
        }

        async IAsyncEnumerable<AudioFrame> Audio([EnumeratorCancellation] CancellationToken ct = default)
        {
            var format = AudioFormat.Pcm16Mono48kHz;
            var step = TimeSpan.FromMilliseconds(20);
            for (var t = TimeSpan.Zero; t < length; t += step)
            {
                await PaceAsync(t, ct);
                var frame = AudioFrame.Rent(format, format.GetByteCount(step), t);
                var first = (long)Math.Round(t.TotalSeconds * 48_000);
                for (var i = 0; i < frame.Samples.Length; i++)
                {
                    frame.Samples[i] = (short)(8_000 * Math.Sin(2 * Math.PI * 440 * (first + i) / 48_000));
                }

                yield return frame;
            }

            audioDone.SetResult();
        }

        async Task PaceAsync(TimeSpan t, CancellationToken ct)
        {
            var wait = t - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, ct);
            }
        }
    }

    private static async Task<bool> FfmpegAvailableAsync()
    {
        try
        {
            var result = await CliWrap.Cli.Wrap("ffprobe").WithArguments(["-version"]).WithValidation(CliWrap.CommandResultValidation.None).ExecuteBufferedAsync();
            return result.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
