using System.CommandLine;
using AvatarKit.Cli.Hosting;
using AvatarKit.Cli.Rendering;
using Spectre.Console;

namespace AvatarKit.Cli.Commands;

/// <summary><c>chat</c>: talk to the avatar by text (and voice when a microphone is available), with the original's slash commands.</summary>
internal static class ChatCommand
{
    private const string Help = """
        Type a message and press Enter; the avatar answers sentence by sentence.
          /help       this help
          /avatars    list the avatars you can use
          /status     state, who is speaking, providers, last turn's latencies
          /outputs    the recordings written so far
          /interrupt  stop the avatar's current answer
          /quit       close the session, finalize the recording and exit
        """;

    public static Command Create(GlobalOptions global)
    {
        var voice = new Option<bool>("--voice") { Description = "Also listen to the microphone (speech-to-text; barge-in interrupts the avatar)." };
        var audioFile = new Option<string?>("--audio-file") { Description = "Use a WAV file as the microphone (played in real time); implies --voice." };
        var noRecord = new Option<bool>("--no-record") { Description = "Do not record the session." };
        var command = new Command("chat", "Chat with the avatar by text or voice; /help lists the commands.") { voice, audioFile, noRecord };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, global, env =>
        {
            var file = parse.GetValue(audioFile);
            return RunAsync(env, new HostRequest(parse.GetValue(voice) || file is not null, !parse.GetValue(noRecord), file is null ? null : Path.GetFullPath(file)), ct);
        }));
        return command;
    }

    private static async Task<int> RunAsync(CliEnvironment environment, HostRequest request, CancellationToken cancellationToken)
    {
        await using var host = await AnsiConsole.Status().StartAsync("Starting services…", _ => ConversationHost.CreateAsync(environment, request, cancellationToken));
        ProviderTable.Write(host);
        var pipeline = host.Pipelines.Create();
        var rendering = new EventRenderer(pipeline.ReadEventsAsync(CancellationToken.None), showPartials: !Console.IsOutputRedirected).Completion;
        var pending = new List<Task>();
        try
        {
            await AnsiConsole.Status().StartAsync("Starting the avatar session…", _ => pipeline.StartAsync(cancellationToken));
            AnsiConsole.MarkupLine($"[grey]avatar session {Markup.Escape(pipeline.Session!.SessionId)} ready{(pipeline.IsVoiceInputActive ? "; listening to the microphone" : string.Empty)}. /help lists the commands.[/]");
            while (true)
            {
                var line = await ReadLineAsync(cancellationToken);
                if (line is null)
                {
                    // End of input (a script): let the answers (and a voice file) finish, then close.
                    await Task.WhenAll(pending);
                    await WaitUntilIdleAsync(pipeline, cancellationToken);
                    break;
                }

                line = line.Trim();
                if (line.Length == 0)
                {
                    continue;
                }

                if (!line.StartsWith('/'))
                {
                    pending.RemoveAll(t => t.IsCompleted);
                    pending.Add(SendAsync(pipeline, line, cancellationToken));
                    continue;
                }

                switch (line.ToLowerInvariant())
                {
                    case "/help":
                        AnsiConsole.WriteLine(Help);
                        break;
                    case "/avatars":
                        await AvatarsCommand.WriteAvatarsAsync(host.AvatarService, cancellationToken);
                        break;
                    case "/status":
                        WriteStatus(host, pipeline);
                        break;
                    case "/outputs":
                        WriteOutputs(environment, pipeline);
                        break;
                    case "/interrupt":
                        await pipeline.InterruptAsync(cancellationToken);
                        break;
                    case "/quit" or "/exit":
                        await pipeline.InterruptAsync(cancellationToken);
                        return await FinishAsync(pipeline, rendering, cancellationToken);
                    default:
                        AnsiConsole.MarkupLine($"[red]Unknown command {Markup.Escape(line)}.[/] /help lists the commands.");
                        break;
                }
            }

            return await FinishAsync(pipeline, rendering, cancellationToken);
        }
        finally
        {
            await pipeline.DisposeAsync();
            await rendering;
        }
    }

    /// <summary>
    /// Reads a line of input. Console.In's ReadLineAsync blocks until a line arrives whatever the token says, so
    /// Ctrl+C or SIGTERM could not stop a chat waiting for input; the read runs on the thread pool instead, and
    /// a read abandoned by cancellation ends with the process.
    /// </summary>
    private static Task<string?> ReadLineAsync(CancellationToken cancellationToken) =>
        Task.Run(Console.In.ReadLine, CancellationToken.None).WaitAsync(cancellationToken);

    private static async Task<int> FinishAsync(AvatarPipeline pipeline, Task rendering, CancellationToken cancellationToken)
    {
        var recording = await AnsiConsole.Status().StartAsync("Closing the session and finalizing the recording…", _ => pipeline.StopAsync("chat ended", cancellationToken));
        await rendering;
        if (recording is not null)
        {
            AnsiConsole.MarkupLine($"session: [bold]{Markup.Escape(recording.SessionFilePath)}[/] ({EventRenderer.Seconds(recording.Duration)}, {recording.Clips.Count} clips)");
        }

        return ExitCodes.Ok;
    }

    private static async Task WaitUntilIdleAsync(AvatarPipeline pipeline, CancellationToken cancellationToken)
    {
        var quietSince = DateTime.UtcNow;
        while (DateTime.UtcNow - quietSince < TimeSpan.FromSeconds(1.5))
        {
            if (pipeline.IsVoiceInputActive || pipeline.State is not (ConversationState.Listening or ConversationState.Stopped))
            {
                quietSince = DateTime.UtcNow;
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private static async Task SendAsync(AvatarPipeline pipeline, string text, CancellationToken cancellationToken)
    {
        try
        {
            await pipeline.SendTextAsync(text, cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException)
        {
            // The conversation stopped; its event says why.
        }
    }

    private static void WriteStatus(ConversationHost host, AvatarPipeline pipeline)
    {
        var table = new Table().Border(TableBorder.Rounded).HideHeaders().AddColumn("k").AddColumn("v");
        table.AddRow("state", Describe(pipeline.State));
        table.AddRow("avatar session", Markup.Escape(pipeline.Session?.SessionId ?? "–"));
        table.AddRow("voice input", pipeline.IsVoiceInputActive ? "listening" : "off (text only)");
        table.AddRow("history", $"{pipeline.History.Count} messages (max {pipeline.History.MaxMessages})");
        table.AddRow("recording", Markup.Escape(pipeline.Recording?.SessionFilePath ?? "off"));
        table.AddRow("last turn", pipeline.LastTurn is { } last ? $"{last.Outcome.ToString().ToLowerInvariant()} · {EventRenderer.LatencyLine(last.Metrics)}" : "–");
        foreach (var p in host.Providers)
        {
            table.AddRow(p.Capability, $"{Markup.Escape(p.Provider)}{(p.IsSandbox ? " [yellow](sandbox)[/]" : string.Empty)}");
        }

        AnsiConsole.Write(table);
    }

    private static string Describe(ConversationState state) => state switch
    {
        ConversationState.AvatarSpeaking => "[cyan]avatar speaking[/]",
        ConversationState.UserSpeaking => "[green]you are speaking[/]",
        ConversationState.Thinking => "thinking",
        ConversationState.Listening => "listening",
        _ => state.ToString().ToLowerInvariant(),
    };

    private static void WriteOutputs(CliEnvironment environment, AvatarPipeline pipeline)
    {
        AnsiConsole.MarkupLine($"outputs in [bold]{Markup.Escape(environment.OutputDirectory)}[/]");
        if (pipeline.Recording is { } recording)
        {
            AnsiConsole.MarkupLine($"  recording now: {Markup.Escape(Path.GetFileName(recording.SessionFilePath))} ({recording.Clips.Count} clips so far)");
        }

        var files = new DirectoryInfo(environment.OutputDirectory).GetFiles("*.mp4").OrderByDescending(f => f.LastWriteTimeUtc).Take(20).ToList();
        if (files.Count == 0)
        {
            AnsiConsole.MarkupLine("  [grey]no MP4 files yet[/]");
        }

        foreach (var file in files)
        {
            AnsiConsole.MarkupLine($"  {Markup.Escape(file.Name)} [grey]{file.Length / 1024.0:0} KiB, {file.LastWriteTime:HH:mm:ss}[/]");
        }
    }
}
