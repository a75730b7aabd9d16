using System.Text;
using System.Threading.Channels;
using CliWrap;

namespace AvatarKit.Cli.Tests.HostKill;

/// <summary>A CLI process driven line by line: stdin written as the test goes, stdout read as it comes, signals sent by pid.</summary>
internal sealed class InteractiveCli : IAsyncDisposable
{
    private readonly Channel<string> _input = Channel.CreateUnbounded<string>();
    private readonly Channel<(string Line, DateTimeOffset At)> _lines = Channel.CreateUnbounded<(string, DateTimeOffset)>();
    private readonly StringBuilder _output = new();
    private readonly CancellationTokenSource _forceKill = new();
    private readonly CommandTask<CommandResult> _run;

    private InteractiveCli(CliProcess cli, string[] arguments)
    {
        _run = cli.Command(arguments)
            .WithStandardInputPipe(PipeSource.Create(async (stream, ct) =>
            {
                await foreach (var line in _input.Reader.ReadAllAsync(ct))
                {
                    await stream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"), ct);
                    await stream.FlushAsync(ct);
                }
            }))
            .WithStandardOutputPipe(PipeTarget.ToDelegate(OnLine))
            .WithStandardErrorPipe(PipeTarget.ToDelegate(OnLine))
            .ExecuteAsync(_forceKill.Token);
        Completion = _run.Task.ContinueWith(t => t.IsCompletedSuccessfully ? t.Result.ExitCode : -1, TaskScheduler.Default);
    }

    public int ProcessId => _run.ProcessId;

    /// <summary>Gets the exit code (128 + signal when a signal ended it), once the process ended.</summary>
    public Task<int> Completion { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static InteractiveCli Start(CliProcess cli, params string[] arguments) => new(cli, arguments);

    public void Send(string line) => _input.Writer.TryWrite(line);

    /// <summary>Waits for a line containing <paramref name="fragment"/>; returns when the test saw it.</summary>
    public async Task<DateTimeOffset> WaitForLineAsync(string fragment, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            while (await _lines.Reader.WaitToReadAsync(deadline.Token))
            {
                while (_lines.Reader.TryRead(out var line))
                {
                    if (line.Line.Contains(fragment, StringComparison.Ordinal))
                    {
                        return line.At;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The CLI did not print '{fragment}' within {timeout.TotalSeconds:0} s. Output:\n{Output}");
        }

        throw new InvalidOperationException($"The CLI ended before printing '{fragment}'. Output:\n{Output}");
    }

    /// <summary>Waits for the process to end; null when it did not within <paramref name="timeout"/>.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        var done = await Task.WhenAny(Completion, Task.Delay(timeout));
        return done == Completion ? await Completion : null;
    }

    public async ValueTask DisposeAsync()
    {
        _input.Writer.TryComplete();
        if (!Completion.IsCompleted)
        {
            // Whatever the test did, no CLI (or its encoder) outlives it.
            await _forceKill.CancelAsync();
        }

        await Completion;
        _forceKill.Dispose();
    }

    private void OnLine(string line)
    {
        lock (_output)
        {
            _output.AppendLine(line);
        }

        _lines.Writer.TryWrite((line, DateTimeOffset.UtcNow));
    }
}
