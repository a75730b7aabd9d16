using System.Text;
using System.Threading.Channels;
using CliWrap;

namespace AvatarKit.Cli.Tests;

public sealed class ChatTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Chat_answers_text_from_stdin_and_shows_status_and_outputs_until_the_input_ends()
    {
        using var cli = new CliProcess();

        var (exitCode, output) = await cli.RunAsync(
            ["chat"],
            "Hello!\n/status\n/outputs\n/help\nWhat did I just ask you?\n",
            Ct);

        Assert.True(exitCode == 0, output);
        Assert.Contains("avatar › Hello!", output, StringComparison.Ordinal);
        Assert.Contains("You asked: \"Hello!\"", output, StringComparison.Ordinal);
        Assert.Contains("avatar session", output, StringComparison.Ordinal);
        Assert.Contains("outputs in", output, StringComparison.Ordinal);
        Assert.Contains("/interrupt", output, StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(cli.OutputDirectory, "session_*.mp4"));
    }

    [Fact]
    public async Task Interrupt_stops_a_long_answer_and_quit_closes_the_session()
    {
        using var cli = new CliProcess();
        var input = Channel.CreateUnbounded<string>();
        var lines = Channel.CreateUnbounded<string>();
        var output = new StringBuilder();
        var run = cli.Command("chat", "--no-record")
            .WithStandardInputPipe(PipeSource.Create(async (stream, ct) =>
            {
                await foreach (var line in input.Reader.ReadAllAsync(ct))
                {
                    await stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), ct);
                    await stream.FlushAsync(ct);
                }
            }))
            .WithStandardOutputPipe(PipeTarget.ToDelegate(line =>
            {
                lock (output)
                {
                    output.AppendLine(line);
                }

                lines.Writer.TryWrite(line);
            }))
            .ExecuteAsync(Ct);

        await WaitForLineAsync(lines, "/help lists the commands");
        input.Writer.TryWrite("Tell me a long story about a lighthouse keeper.");
        await WaitForLineAsync(lines, "avatar › Once upon a time");
        input.Writer.TryWrite("/interrupt");
        await WaitForLineAsync(lines, "interrupted (command)");
        input.Writer.TryWrite("/quit");
        input.Writer.TryComplete();
        var result = await run;

        var text = output.ToString();
        Assert.True(result.ExitCode == 0, text);
        Assert.DoesNotContain("avatar › She said the sea", text, StringComparison.Ordinal);
        Assert.Contains("conversation stopped", text, StringComparison.Ordinal);
    }

    private static async Task WaitForLineAsync(Channel<string> lines, string fragment)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        while (await lines.Reader.WaitToReadAsync(timeout.Token))
        {
            while (lines.Reader.TryRead(out var line))
            {
                if (line.Contains(fragment, StringComparison.Ordinal))
                {
                    return;
                }
            }
        }

        throw new InvalidOperationException($"The CLI ended before printing '{fragment}'.");
    }
}
