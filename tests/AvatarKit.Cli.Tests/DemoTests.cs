using System.Globalization;
using CliWrap.Buffered;

namespace AvatarKit.Cli.Tests;

public sealed class DemoTests
{
    [Fact]
    public async Task Demo_with_no_keys_exits_0_and_writes_four_clips_and_a_session_file_ffprobe_accepts()
    {
        using var cli = new CliProcess();

        var (exitCode, output) = await cli.RunAsync(["demo"], cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(exitCode == 0, output);
        Assert.Contains("SANDBOX", output, StringComparison.Ordinal);
        Assert.Contains("interrupted", output, StringComparison.Ordinal);
        Assert.Contains("You asked: \"Tell me a long story", output, StringComparison.Ordinal);
        var clips = Directory.GetFiles(cli.OutputDirectory, "voice_task_*.mp4");
        var sessions = Directory.GetFiles(cli.OutputDirectory, "session_*.mp4");
        Assert.Equal(4, clips.Length);
        Assert.Single(sessions);
        foreach (var file in clips.Concat(sessions))
        {
            var duration = await ProbeDurationAsync(file);
            Assert.True(duration > 0.5, $"{Path.GetFileName(file)} lasts {duration} s");
        }

        Assert.True(await ProbeDurationAsync(sessions[0]) > clips.Sum(c => ProbeDurationAsync(c).GetAwaiter().GetResult()) * 0.9);
        Assert.Single(Directory.GetFiles(Path.Combine(cli.WorkingDirectory, "logs"), "avatarkit-*.log"));
    }

    private static async Task<double> ProbeDurationAsync(string file)
    {
        var result = await CliWrap.Cli.Wrap("ffprobe")
            .WithArguments(["-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1", file])
            .ExecuteBufferedAsync(TestContext.Current.CancellationToken);
        return double.Parse(result.StandardOutput.Trim(), CultureInfo.InvariantCulture);
    }
}

public sealed class CancellationTests
{
    [Fact]
    public async Task Ctrl_c_during_the_demo_closes_the_session_and_leaves_a_playable_recording()
    {
        var ct = TestContext.Current.CancellationToken;
        using var cli = new CliProcess();
        var lines = System.Threading.Channels.Channel.CreateUnbounded<string>();
        var output = new System.Text.StringBuilder();
        var run = cli.Command("demo")
            .WithStandardOutputPipe(CliWrap.PipeTarget.ToDelegate(line =>
            {
                lock (output)
                {
                    output.AppendLine(line);
                }

                lines.Writer.TryWrite(line);
            }))
            .WithStandardErrorPipe(CliWrap.PipeTarget.ToDelegate(line =>
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
            }))
            .ExecuteAsync(ct);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        while (!(await lines.Reader.ReadAsync(timeout.Token)).Contains("avatar › Hello!", StringComparison.Ordinal))
        {
        }

        // Ctrl+C as a terminal sends it. (CliWrap's graceful cancellation reports any exit as cancelled, which would
        // hide the CLI's real exit code.)
        await HostKill.HostProcess.SignalAsync(run.ProcessId, "INT");
        var exitCode = (await run).ExitCode;

        var session = Assert.Single(Directory.GetFiles(cli.OutputDirectory, "session_*.mp4"));
        var probe = await CliWrap.Cli.Wrap("ffprobe").WithArguments(["-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1", session])
            .WithValidation(CliWrap.CommandResultValidation.None).ExecuteBufferedAsync(ct);
        Assert.True(exitCode == 130, $"exit {exitCode}:\n{output}");
        Assert.Equal(0, probe.ExitCode);
        Assert.Contains("Stopped (Ctrl+C)", output.ToString(), StringComparison.Ordinal);
    }
}
