using System.Diagnostics;
using System.Globalization;
using AvatarKit.Harness.Doubles;
using AvatarKit.Harness.Measuring;
using Microsoft.Extensions.AI;

namespace AvatarKit.Harness.Latency;

/// <summary>Settings of <c>latency</c>.</summary>
internal sealed record LatencySettings
{
    public int Turns { get; init; } = 20;

    public int OverheadTurns { get; init; } = 200;

    public TimeSpan TimeToFirstToken { get; init; } = TimeSpan.FromMilliseconds(300);

    public double TokensPerSecond { get; init; } = 40;

    public int AnswerTokens { get; init; } = 80;

    public TimeSpan AvatarStart { get; init; } = TimeSpan.Zero;

    public TimeSpan BargeInAfter { get; init; } = TimeSpan.FromMilliseconds(150);

    public bool Json { get; init; }
}

/// <summary>The <c>--json</c> summary of <c>latency</c>.</summary>
internal sealed record LatencySummary(
    double OverheadP50Ms,
    double OverheadP99Ms,
    double FirstSpeechP50Ms,
    double OriginalFirstSpeechP50Ms,
    double Speedup,
    double BargeInP99Ms,
    int Turns);

/// <summary>
/// Drives conversation turns through the real <see cref="AvatarPipeline"/> and measures, from outside
/// it, (1) its own overhead with every provider at zero latency, (2) end of user speech or text to the
/// avatar speaking with the given LLM latencies, (3) barge-in, then (4) the original prototype's
/// approach (whole answer first, then one speak call) with the same chat client and avatar.
/// </summary>
internal static class LatencyCommand
{
    private const string Question = "Tell me something interesting about the weather.";
    private static readonly TimeSpan TurnTimeout = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(LatencySettings settings, TextWriter output)
    {
        var answer = AnswerText.Create(settings.AnswerTokens);
        var firstSentenceWords = AnswerText.FirstSentenceWords(settings.AnswerTokens);
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"latency: {settings.Turns} turns, TTFT {settings.TimeToFirstToken.TotalMilliseconds} ms, {settings.TokensPerSecond} tokens/s, {settings.AnswerTokens}-token answers (first sentence {firstSentenceWords} tokens), avatar start {settings.AvatarStart.TotalMilliseconds} ms"));
        output.WriteLine(Machine.Describe());

        var overhead = new Samples("pipeline overhead, zero latency (send -> speak call)");
        var overheadMetric = new Samples("  the pipeline's own PipelineOverhead metric");
        await MeasureOverheadAsync(settings, answer, overhead, overheadMetric).ConfigureAwait(false);

        var firstSpeech = new Samples("end of user input -> avatar speaking");
        var firstSpeechText = new Samples("  text turns");
        var firstSpeechVoice = new Samples("  voice turns (final transcript -> speaking)");
        var overheadLive = new Samples("pipeline overhead at these latencies (own code)");
        var bargeIn = new Samples("barge-in (speech start -> InterruptAsync)");
        var failed = await MeasureStreamingAsync(settings, answer, firstSpeech, firstSpeechText, firstSpeechVoice, overheadLive, bargeIn)
            .ConfigureAwait(false);

        var original = new Samples("original approach (whole answer, one speak)");
        await MeasureOriginalAsync(settings, answer, original).ConfigureAwait(false);

        var speedup = original.P50 / firstSpeech.P50;
        output.WriteLine();
        output.WriteLine(Samples.Header());
        foreach (var samples in new[] { overhead, overheadMetric, overheadLive, firstSpeech, firstSpeechText, firstSpeechVoice, original, bargeIn })
        {
            output.WriteLine(samples.Row());
        }

        output.WriteLine();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"speedup (original p50 / pipeline p50): {speedup:0.00}x; failed turns: {failed}"));
        output.WriteLine(Target("overhead p99 <= 10 ms", overhead.P99 <= 10));
        output.WriteLine(Target("first speech >= 3x sooner than the original", speedup >= 3));
        output.WriteLine(Target("barge-in p99 <= 50 ms", bargeIn.P99 <= 50));
        if (settings.Json)
        {
            output.WriteLine(Json.Line(new LatencySummary(
                Samples.Round(overhead.P50),
                Samples.Round(overhead.P99),
                Samples.Round(firstSpeech.P50),
                Samples.Round(original.P50),
                Math.Round(speedup, 2),
                Samples.Round(bargeIn.P99),
                settings.Turns)));
        }

        return failed == 0 ? 0 : 1;
    }

    private static string Target(string name, bool met) => $"  target {name}: {(met ? "met" : "NOT met")}";

    private static async Task MeasureOverheadAsync(LatencySettings settings, string answer, Samples overhead, Samples metric)
    {
        using var chat = new PacedChatClient(answer);
        await using var conversation = await HarnessConversation.StartAsync(chat, new SimulatedAvatarSession(), voice: false).ConfigureAwait(false);
        const int warmUp = 50;
        for (var i = 0; i < warmUp + settings.OverheadTurns; i++)
        {
            var speak = conversation.SpeakCalled.Arm();
            var sent = Stopwatch.GetTimestamp();
            var result = await conversation.Pipeline.SendTextAsync(Question).WaitAsync(TurnTimeout).ConfigureAwait(false);
            var spoke = await speak.WaitAsync(TurnTimeout).ConfigureAwait(false);
            if (i >= warmUp)
            {
                overhead.Add(Stopwatch.GetElapsedTime(sent, spoke));
                if (result.Metrics.PipelineOverhead is { } own)
                {
                    metric.Add(own);
                }
            }
        }
    }

    private static async Task<int> MeasureStreamingAsync(
        LatencySettings settings,
        string answer,
        Samples firstSpeech,
        Samples text,
        Samples voice,
        Samples overhead,
        Samples bargeIn)
    {
        using var chat = new PacedChatClient(answer) { TimeToFirstToken = settings.TimeToFirstToken, TokensPerSecond = settings.TokensPerSecond };
        var avatar = new SimulatedAvatarSession { StartDelay = settings.AvatarStart, WordsPerSecond = 2.5 };
        await using var conversation = await HarnessConversation.StartAsync(chat, avatar, voice: true).ConfigureAwait(false);
        var stt = conversation.SpeechToText!;
        var failed = 0;
        const int warmUp = 2;
        for (var i = 0; i < warmUp + settings.Turns; i++)
        {
            var isVoice = i % 2 == 1;
            var started = conversation.Started.Arm();
            var measureOverhead = conversation.ArmOverhead();
            long sent;
            Task<ConversationTurnResult>? textTurn = null;
            if (isVoice)
            {
                stt.Send(ScriptedSpeechToText.SpeechStarted());
                stt.Send(ScriptedSpeechToText.Partial(Question[..20]));
                sent = Stopwatch.GetTimestamp();
                stt.Send(ScriptedSpeechToText.Final(Question, speechFinal: true));
            }
            else
            {
                sent = Stopwatch.GetTimestamp();
                textTurn = conversation.Pipeline.SendTextAsync(Question);
            }

            var speaking = await started.WaitAsync(TurnTimeout).ConfigureAwait(false);
            var turnOverhead = await measureOverhead(sent).WaitAsync(TurnTimeout).ConfigureAwait(false);

            // The user talks over the answer: that is the barge-in, and it ends the turn.
            await Task.Delay(settings.BargeInAfter).ConfigureAwait(false);
            var interrupted = conversation.InterruptCalled.Arm();
            var speechStart = Stopwatch.GetTimestamp();
            stt.Send(ScriptedSpeechToText.SpeechStarted());
            var interrupt = await interrupted.WaitAsync(TurnTimeout).ConfigureAwait(false);
            stt.Send(ScriptedSpeechToText.UtteranceEnd());
            var result = await conversation.NextTurnAsync(TurnTimeout).ConfigureAwait(false);
            if (textTurn is not null)
            {
                await textTurn.ConfigureAwait(false);
            }

            if (i < warmUp)
            {
                continue;
            }

            failed += result.Outcome == TurnOutcome.Failed ? 1 : 0;
            var toSpeech = Stopwatch.GetElapsedTime(sent, speaking);
            firstSpeech.Add(toSpeech);
            (isVoice ? voice : text).Add(toSpeech);
            overhead.Add(turnOverhead);
            bargeIn.Add(Stopwatch.GetElapsedTime(speechStart, interrupt));
        }

        return failed;
    }

    private static async Task MeasureOriginalAsync(LatencySettings settings, string answer, Samples original)
    {
        // The original prototype: wait for the whole answer, then one speak call with all of it.
        using var chat = new PacedChatClient(answer) { TimeToFirstToken = settings.TimeToFirstToken, TokensPerSecond = settings.TokensPerSecond };
        await using var avatar = new SimulatedAvatarSession { StartDelay = settings.AvatarStart };
        var started = new Probe();
        avatar.Started += started.Hit;
        ChatMessage[] messages = [new(ChatRole.System, AvatarPipelineOptions.DefaultSystemPrompt), new(ChatRole.User, Question)];
        for (var i = 0; i < settings.Turns; i++)
        {
            var speaking = started.Arm();
            var sent = Stopwatch.GetTimestamp();
            var response = await chat.GetResponseAsync(messages).ConfigureAwait(false);
            await avatar.SpeakAsync(response.Text).ConfigureAwait(false);
            original.Add(Stopwatch.GetElapsedTime(sent, await speaking.WaitAsync(TurnTimeout).ConfigureAwait(false)));
        }
    }
}
