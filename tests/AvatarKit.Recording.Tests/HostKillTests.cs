using System.Diagnostics;
using System.Globalization;
using AvatarKit.Recording.Tests.Support;

namespace AvatarKit.Recording.Tests;

/// <summary>
/// SIGKILL of the whole host process (not only its ffmpeg child): a real child .NET process
/// (AvatarKit.Recording.Tests.Host) records a synthetic room and is killed mid-recording.
/// </summary>
/// <remarks>
/// What happens to the ffmpeg grandchild: nothing kills it, but with its parent gone it reads end of
/// input on stdin and on the audio socket, and its next write to stdout (the pipe the dead host copied
/// into the file) fails, so it exits on its own within moments. What the host had already copied into
/// the file stays: every complete fragment (half a second at most is lost).
/// </remarks>
public sealed class HostKillTests : IDisposable
{
    private readonly TestOutput _output = new();

    [Fact]
    public async Task Killing_the_host_process_leaves_a_playable_file_missing_at_most_the_last_second_and_no_ffmpeg_running()
    {
        MediaProbe.SkipWithoutFfmpeg();
        var ct = TestContext.Current.CancellationToken;

        // Somewhere inside a fragment, not on its boundary.
        var killAfter = 4.0 + Random.Shared.NextDouble();
        using var host = StartHost(_output.Directory, "hostkill");
        var encoderPid = 0;
        try
        {
            double reported = 0, shift = 0;
            long dropped = 0;
            long reportedAt = 0;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct))
            {
                timeout.CancelAfter(TimeSpan.FromSeconds(60));
                while (reported < killAfter && await host.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
                {
                    if (line.StartsWith("encoder ", StringComparison.Ordinal))
                    {
                        encoderPid = int.Parse(line[8..], CultureInfo.InvariantCulture);
                    }
                    else if (line.StartsWith("written ", StringComparison.Ordinal))
                    {
                        var values = line[8..].Split(' ');
                        (reported, shift, dropped) = (double.Parse(values[0], CultureInfo.InvariantCulture), double.Parse(values[1], CultureInfo.InvariantCulture), long.Parse(values[2], CultureInfo.InvariantCulture));
                        reportedAt = Stopwatch.GetTimestamp();
                    }
                }
            }

            Assert.True(reported >= killAfter, $"the host stopped before recording {killAfter:0.0} s (exit code {(host.HasExited ? host.ExitCode : null)})");
            Assert.NotEqual(0, encoderPid);
            Assert.True(IsRunning(encoderPid), "ffmpeg is not running before the kill");

            host.Kill(); // SIGKILL, the host only (ffmpeg is not in its tree kill).
            var recordedAtKill = reported + Stopwatch.GetElapsedTime(reportedAt).TotalSeconds;
            await host.WaitForExitAsync(ct);

            // The realistic case: ffmpeg notices its parent is gone (end of input, broken output pipe) and exits by itself.
            var exited = Stopwatch.StartNew();
            while (IsRunning(encoderPid) && exited.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(50, ct);
            }

            Assert.False(IsRunning(encoderPid), "ffmpeg kept running 10 s after its host was killed");

            var file = Path.Combine(_output.Directory, "session_hostkill.mp4");
            var probe = await MediaProbe.ProbeAsync(file);
            Assert.Equal(("h264", 1280, 720), (probe.Video.Codec, probe.Video.Width, probe.Video.Height));
            Assert.Equal("aac", Assert.Single(probe.Audio).Codec);

            // Everything recorded before the kill plays, except at most the fragment being written (one second).
            var (videoEnd, audioEnd) = await MediaProbe.DecodedEndsAsync(file);
            TestContext.Current.TestOutputHelper?.WriteLine($"recorded {recordedAtKill:0.000} s when killed (avatar frames moved {shift:0.000} s later by re-anchoring, {dropped} video frames dropped); decoded video to {videoEnd:0.000} s, audio to {audioEnd:0.000} s");
            Assert.InRange(videoEnd, recordedAtKill - 1.0, recordedAtKill + 0.1);
            Assert.InRange(audioEnd, recordedAtKill - 1.0, recordedAtKill + 0.1);

            // The decoded pictures are the avatar's frames in order, up to the frame the last timestamp says.
            var counters = await MediaProbe.FrameCountersAsync(file);
            Assert.True(counters.Count >= (int)((recordedAtKill - 1.0) * 25), $"{counters.Count} frames decoded of {recordedAtKill:0.00} s recorded");
            Assert.Equal(0, counters[0]);
            Assert.All(counters.Zip(counters.Skip(1)), pair => Assert.True(pair.Second >= pair.First, $"frame {pair.Second} after {pair.First}"));
            // Frame n sits at n * 40 ms (moved later by any re-anchoring) and is never shown early. When a stalled
            // machine makes the encoder catch up, video frames are dropped and the last picture held (audio is not
            // dropped), so the last picture may be behind by up to the frames dropped; with none dropped, by none.
            var shiftFrames = (int)Math.Round(shift / 0.040);
            Assert.InRange(counters[^1] + shiftFrames, counters.Count - 3 - dropped, counters.Count + 1);
            Assert.InRange((counters[^1] * 0.040) + shift, videoEnd - 0.12 - (dropped * 0.040), videoEnd);
        }
        finally
        {
            if (!host.HasExited)
            {
                host.Kill();
            }

            // No orphan survives a failed test.
            if (encoderPid != 0 && IsRunning(encoderPid))
            {
                Process.GetProcessById(encoderPid).Kill();
            }
        }
    }

    public void Dispose() => _output.Dispose();

    private static Process StartHost(string directory, string sessionId)
    {
        var name = "AvatarKit.Recording.Tests.Host";
        var apphost = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? name + ".exe" : name);
        var info = File.Exists(apphost)
            ? new ProcessStartInfo(apphost)
            : new ProcessStartInfo("dotnet") { ArgumentList = { "exec", Path.Combine(AppContext.BaseDirectory, name + ".dll") } };
        info.ArgumentList.Add(directory);
        info.ArgumentList.Add(sessionId);
        info.RedirectStandardOutput = true;
        info.UseShellExecute = false;
        return Process.Start(info)!;
    }

    /// <summary>Whether a process exists and is not a zombie (an exited orphan its new parent has not reaped yet).</summary>
    private static bool IsRunning(int pid)
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                return !File.ReadLines($"/proc/{pid}/status").Any(l => l.StartsWith("State:", StringComparison.Ordinal) && l.Contains('Z', StringComparison.Ordinal));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return false;
            }
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
