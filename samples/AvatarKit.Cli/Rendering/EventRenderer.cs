using System.Globalization;
using Spectre.Console;

namespace AvatarKit.Cli.Rendering;

/// <summary>Prints a conversation's events as they happen: what the user said, what the avatar says, interruptions, errors and latencies.</summary>
internal sealed class EventRenderer
{
    private int _renderedTurn;

    public EventRenderer(IAsyncEnumerable<ConversationEvent> events, bool showPartials)
    {
        Completion = Task.Run(() => RenderAsync(events, showPartials));
    }

    /// <summary>Gets a task that completes when the conversation stopped and everything was printed.</summary>
    public Task Completion { get; }

    /// <summary>Waits (briefly) until a turn's completion line was printed, so the next output follows it.</summary>
    public async Task WaitForTurnAsync(int turnId)
    {
        for (var i = 0; i < 50 && Volatile.Read(ref _renderedTurn) < turnId && !Completion.IsCompleted; i++)
        {
            await Task.Delay(20);
        }
    }

    private async Task RenderAsync(IAsyncEnumerable<ConversationEvent> events, bool showPartials)
    {
        var partialShown = false;
        await foreach (var e in events)
        {
            if (partialShown && e is not TranscriptEvent { IsFinal: false })
            {
                AnsiConsole.Write("\r" + new string(' ', Math.Max(0, Console.IsOutputRedirected ? 0 : Console.WindowWidth - 1)) + "\r");
                partialShown = false;
            }

            switch (e)
            {
                case TranscriptEvent { IsFinal: false } interim when showPartials:
                    AnsiConsole.Markup($"\r[grey]… {Markup.Escape(Truncate(interim.Text, 100))}[/]");
                    partialShown = true;
                    break;
                case UserTurnEvent turn:
                    AnsiConsole.MarkupLine($"[bold]you[/] [grey]({turn.Source.ToString().ToLowerInvariant()})[/] › {Markup.Escape(turn.Text)}");
                    break;
                case AnswerSentenceEvent sentence:
                    AnsiConsole.MarkupLine($"[cyan]avatar[/] › {Markup.Escape(sentence.Sentence)}");
                    break;
                case InterruptedEvent interrupted:
                    AnsiConsole.MarkupLine($"[yellow]⏹ interrupted ({Describe(interrupted.Reason)}) in {Ms(interrupted.Latency)}; the history keeps: \"{Markup.Escape(Truncate(interrupted.SpokenText, 80))}\"[/]");
                    break;
                case ConversationErrorEvent error:
                    AnsiConsole.MarkupLine($"[red]✗ {error.Stage}: {Markup.Escape(error.Message)}[/]{(error.Recoverable ? " [grey](the conversation goes on)[/]" : string.Empty)}");
                    break;
                case TurnCompletedEvent completed:
                    AnsiConsole.MarkupLine($"[grey]  turn {completed.Result.TurnId} {completed.Result.Outcome.ToString().ToLowerInvariant()} · {LatencyLine(completed.Result.Metrics)}[/]");
                    Volatile.Write(ref _renderedTurn, completed.Result.TurnId);
                    break;
                case ConversationStoppedEvent stopped:
                    AnsiConsole.MarkupLine($"[grey]conversation stopped: {Markup.Escape(stopped.Reason)}[/]");
                    break;
                default:
                    break;
            }
        }
    }

    public static string LatencyLine(ConversationTurnMetrics metrics) =>
        $"first speech {Ms(metrics.ToFirstSpeech)} · first token {Ms(metrics.TranscriptToFirstToken)} · first sentence {Ms(metrics.FirstTokenToFirstSentence)} · overhead {Ms(metrics.PipelineOverhead)}";

    public static string Ms(TimeSpan? value) => value is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v.TotalMilliseconds:0} ms") : "–";

    public static string Seconds(TimeSpan value) => string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds:0.0} s");

    private static string Describe(InterruptReason reason) => reason == InterruptReason.BargeIn ? "you spoke" : "command";

    private static string Truncate(string text, int length) => text.Length <= length ? text : string.Concat(text.AsSpan(0, length - 1), "…");
}
