using System.CommandLine;
using AvatarKit.Cli.Hosting;
using AvatarKit.Cli.Rendering;
using Spectre.Console;

namespace AvatarKit.Cli.Commands;

/// <summary>
/// <c>demo</c>: the original's four scripted scenarios (greeting, a factual question, a long answer
/// that gets interrupted, a follow-up that needs the history), one clip per answer plus the session
/// file, and a summary table.
/// </summary>
internal static class DemoCommand
{
    private static readonly DemoScenario[] Scenarios =
    [
        new("greeting", "Hello! Who are you?", Interrupt: false),
        new("factual question", "What is the capital of France?", Interrupt: false),
        new("long answer, interrupted", "Tell me a long story about a lighthouse keeper.", Interrupt: true),
        new("follow-up from history", "What did I just ask you?", Interrupt: false),
    ];

    public static Command Create(GlobalOptions global)
    {
        var interruptAfter = new Option<double>("--interrupt-after") { Description = "Seconds the avatar speaks the long answer before it is interrupted.", DefaultValueFactory = _ => 2.5 };
        var noRecord = new Option<bool>("--no-record") { Description = "Do not record the session." };
        var command = new Command("demo", "Run the 4 scripted scenarios, record one clip per answer and print a summary (no API keys needed).") { interruptAfter, noRecord };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, global, env => RunAsync(env, TimeSpan.FromSeconds(parse.GetValue(interruptAfter)), !parse.GetValue(noRecord), ct)));
        return command;
    }

    private static async Task<int> RunAsync(CliEnvironment environment, TimeSpan interruptAfter, bool record, CancellationToken cancellationToken)
    {
        AnsiConsole.Write(new Rule("[bold]AvatarKit demo[/]").LeftJustified());
        await using var host = await AnsiConsole.Status().StartAsync("Starting services…", _ => ConversationHost.CreateAsync(environment, new HostRequest(Voice: false, Record: record), cancellationToken));
        ProviderTable.Write(host);

        var pipeline = host.Pipelines.Create();
        var results = new List<ConversationTurnResult>();
        SessionRecordingResult? recording = null;
        var renderer = new EventRenderer(pipeline.ReadEventsAsync(CancellationToken.None), showPartials: false);
        try
        {
            await AnsiConsole.Status().StartAsync("Starting the avatar session…", _ => pipeline.StartAsync(cancellationToken));
            AnsiConsole.MarkupLine($"[grey]avatar session {Markup.Escape(pipeline.Session!.SessionId)} ready{(pipeline.Recording is { } r ? $", recording to {Markup.Escape(r.SessionFilePath)}" : string.Empty)}[/]");
            for (var i = 0; i < Scenarios.Length; i++)
            {
                var scenario = Scenarios[i];
                AnsiConsole.Write(new Rule($"[bold]{i + 1}/{Scenarios.Length}[/] {scenario.Name}").LeftJustified());
                var result = scenario.Interrupt
                    ? await AskAndInterruptAsync(pipeline, scenario.Prompt, interruptAfter, cancellationToken)
                    : await pipeline.SendTextAsync(scenario.Prompt, cancellationToken);
                results.Add(result);
                await renderer.WaitForTurnAsync(result.TurnId);
            }

            recording = await AnsiConsole.Status().StartAsync("Finalizing the recording…", _ => pipeline.StopAsync("demo finished", cancellationToken));
        }
        finally
        {
            // Also on Ctrl+C or a failure: close the avatar session and finalize the files.
            await pipeline.DisposeAsync();
            await renderer.Completion;
        }

        return WriteSummary(results, recording, record);
    }

    private static async Task<ConversationTurnResult> AskAndInterruptAsync(AvatarPipeline pipeline, string prompt, TimeSpan interruptAfter, CancellationToken cancellationToken)
    {
        using var stopWatching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var speaking = WaitForSpeakingAsync(pipeline.ReadEventsAsync(stopWatching.Token));
        var turn = pipeline.SendTextAsync(prompt, cancellationToken);
        if (await Task.WhenAny(speaking, turn) == speaking && await speaking)
        {
            await Task.WhenAny(turn, Task.Delay(interruptAfter, cancellationToken));
            if (!turn.IsCompleted)
            {
                AnsiConsole.MarkupLine("[yellow]/interrupt[/]");
                await pipeline.InterruptAsync(cancellationToken);
            }
        }

        await stopWatching.CancelAsync();
        return await turn;
    }

    private static async Task<bool> WaitForSpeakingAsync(IAsyncEnumerable<ConversationEvent> events)
    {
        try
        {
            await foreach (var e in events)
            {
                if (e is AvatarSpeakingStartedEvent)
                {
                    return true;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        return false;
    }

    private static int WriteSummary(List<ConversationTurnResult> results, SessionRecordingResult? recording, bool record)
    {
        AnsiConsole.Write(new Rule("[bold]Summary[/]").LeftJustified());
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("#").AddColumn("scenario").AddColumn("outcome").AddColumn(new TableColumn("first speech").RightAligned())
            .AddColumn(new TableColumn("first token").RightAligned()).AddColumn(new TableColumn("overhead").RightAligned())
            .AddColumn("clip").AddColumn(new TableColumn("length").RightAligned());
        var clips = recording?.Clips ?? [];
        for (var i = 0; i < results.Count; i++)
        {
            var result = results[i];
            var clip = result.Clip ?? (i < clips.Count ? clips[i] : null);
            var outcome = result.Outcome switch
            {
                TurnOutcome.Completed => "[green]completed[/]",
                TurnOutcome.Interrupted => "[yellow]interrupted[/]",
                _ => $"[red]failed[/] {Markup.Escape(result.Error ?? string.Empty)}",
            };
            table.AddRow(
                (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                Scenarios[i].Name,
                outcome,
                EventRenderer.Ms(result.Metrics.ToFirstSpeech),
                EventRenderer.Ms(result.Metrics.TranscriptToFirstToken),
                EventRenderer.Ms(result.Metrics.PipelineOverhead),
                clip is null ? "–" : Markup.Escape(Path.GetFileName(clip.FilePath)),
                clip is null ? "–" : EventRenderer.Seconds(clip.End - clip.Start));
        }

        AnsiConsole.Write(table);
        if (recording is not null)
        {
            AnsiConsole.MarkupLine($"session: [bold]{Markup.Escape(recording.SessionFilePath)}[/] ({EventRenderer.Seconds(recording.Duration)}, {recording.Clips.Count} clips{(recording.DroppedVideoFrames > 0 ? $", {recording.DroppedVideoFrames} video frames dropped" : string.Empty)})");
            if (recording.SidecarFilePath is { } sidecar)
            {
                AnsiConsole.MarkupLine($"transcript and clip list: {Markup.Escape(sidecar)}");
            }
        }

        var turnsOk = results.Count == Scenarios.Length && results.All(r => r.Outcome != TurnOutcome.Failed);
        var filesOk = !record || (recording is not null && File.Exists(recording.SessionFilePath) && recording.Clips.Count == Scenarios.Length && recording.Clips.All(c => File.Exists(c.FilePath)));
        if (!turnsOk || !filesOk)
        {
            AnsiConsole.MarkupLine(turnsOk ? "[red]✗ the recording is incomplete (see the log file)[/]" : "[red]✗ some turns failed (see the errors above)[/]");
            return ExitCodes.Failed;
        }

        AnsiConsole.MarkupLine("[green]✓ demo finished[/]");
        return ExitCodes.Ok;
    }

    private sealed record DemoScenario(string Name, string Prompt, bool Interrupt);
}
