using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;
using AvatarKit.Harness.Doubles;
using AvatarKit.Harness.Measuring;

namespace AvatarKit.Harness.Load;

/// <summary>Settings of <c>load</c>.</summary>
internal sealed record LoadSettings
{
    public int Conversations { get; init; } = 50;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan TimeToFirstToken { get; init; } = TimeSpan.FromMilliseconds(300);

    public double TokensPerSecond { get; init; } = 40;

    public int AnswerTokens { get; init; } = 80;

    public TimeSpan AvatarStart { get; init; } = TimeSpan.Zero;

    /// <summary>Gets the avatar's speaking speed; faster than real speech so that a run sees many turns.</summary>
    public double SpeechWordsPerSecond { get; init; } = 20;

    public TimeSpan ThinkTime { get; init; } = TimeSpan.FromMilliseconds(500);

    public bool Recording { get; init; }

    /// <summary>Gets whether recordings cut one clip per answer (with <see cref="Recording"/>).</summary>
    public bool Clips { get; init; } = true;

    public bool Json { get; init; }
}

/// <summary>The <c>--json</c> summary of <c>load</c>; the recording fields only with <c>--recording</c>; the drift is null for runs too short to tell (under 10 s).</summary>
internal sealed record LoadSummary(
    int Conversations,
    int Turns,
    double OverheadP99Ms,
    int FailedTurns,
    double PeakRssMb,
    double? RssDriftMb,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? DroppedVideoFrames = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? RecordingErrors = null);

/// <summary>
/// Runs many conversations at once in this process, each through its own real <see cref="AvatarPipeline"/>,
/// and reports throughput, the pipeline's overhead under load, CPU and memory (peak and drift).
/// </summary>
internal static class LoadCommand
{
    private static readonly TimeSpan TurnTimeout = TimeSpan.FromSeconds(120);

    public static async Task<int> RunAsync(LoadSettings settings, TextWriter output)
    {
        var answer = AnswerText.Create(settings.AnswerTokens);
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"load: {settings.Conversations} conversations for {settings.Duration.TotalSeconds} s, TTFT {settings.TimeToFirstToken.TotalMilliseconds} ms, {settings.TokensPerSecond} tokens/s, {settings.AnswerTokens}-token answers, avatar speaking {settings.SpeechWordsPerSecond} words/s, recording {(settings.Recording ? (settings.Clips ? "on" : "on without clips") : "off")}"));
        output.WriteLine(Machine.Describe());

        var overhead = new Samples("pipeline overhead under load");
        var firstSpeech = new Samples("text sent -> avatar speaking");
        var turns = 0;
        var failed = 0;
        var memory = new MemorySampler();
        var process = Process.GetCurrentProcess();
        var cpuStart = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(settings.Duration);
        var sampler = memory.RunAsync(TimeSpan.FromSeconds(1), stop.Token);
        using var recording = settings.Recording ? new RecordingLoad(settings.Clips) : null;
        var childSampler = recording?.SampleChildrenAsync(stop.Token) ?? Task.CompletedTask;
        var conversations = Enumerable.Range(0, settings.Conversations).Select(async index =>
        {
            // Stagger the starts over the first second so that turns do not march in lockstep.
            await Task.Delay(TimeSpan.FromMilliseconds(1000.0 * index / settings.Conversations), CancellationToken.None).ConfigureAwait(false);
            using var chat = new PacedChatClient(answer) { TimeToFirstToken = settings.TimeToFirstToken, TokensPerSecond = settings.TokensPerSecond };
            SimulatedAvatarSession NewAvatar(IRealtimeRoom? room) => new() { StartDelay = settings.AvatarStart, WordsPerSecond = settings.SpeechWordsPerSecond, Room = room };
            var (avatar, leaveRoom) = recording is null ? (NewAvatar(null), () => ValueTask.CompletedTask) : await recording.JoinAsync(index, NewAvatar).ConfigureAwait(false);
            try
            {
                await using var conversation = await HarnessConversation.StartAsync(chat, avatar, voice: false, recorder: recording?.Recorder).ConfigureAwait(false);
                await RunTurnsAsync(conversation, index).ConfigureAwait(false);
                if (recording is not null)
                {
                    var live = conversation.Pipeline.Recording;
                    recording.Add(live, await conversation.Pipeline.StopAsync("load run over").ConfigureAwait(false), conversation.Errors);
                }
            }
            finally
            {
                await leaveRoom().ConfigureAwait(false);
            }
        }).ToList();

        async Task RunTurnsAsync(HarnessConversation conversation, int index)
        {
            var random = new Random(index);
            while (!stop.IsCancellationRequested)
            {
                var measureOverhead = conversation.ArmOverhead();
                var started = conversation.Started.Arm();
                var sent = Stopwatch.GetTimestamp();
                try
                {
                    var result = await conversation.Pipeline.SendTextAsync($"Question {turns} of conversation {index}?").WaitAsync(TurnTimeout).ConfigureAwait(false);
                    Interlocked.Increment(ref turns);
                    if (result.Outcome != TurnOutcome.Completed)
                    {
                        Interlocked.Increment(ref failed);
                        continue;
                    }

                    overhead.Add(await measureOverhead(sent).ConfigureAwait(false));
                    firstSpeech.Add(Stopwatch.GetElapsedTime(sent, await started.ConfigureAwait(false)));
                }
                catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
                {
                    Interlocked.Increment(ref turns);
                    Interlocked.Increment(ref failed);
                }

                await Task.Delay(settings.ThinkTime * (0.5 + random.NextDouble()), CancellationToken.None).ConfigureAwait(false);
            }
        }

        await Task.WhenAll(conversations).ConfigureAwait(false);
        await sampler.ConfigureAwait(false);
        await childSampler.ConfigureAwait(false);
        var elapsed = clock.Elapsed;
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuStart) / elapsed;

        output.WriteLine();
        output.WriteLine(Samples.Header());
        output.WriteLine(overhead.Row());
        output.WriteLine(firstSpeech.Row());
        output.WriteLine();
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"turns: {turns} ({turns / elapsed.TotalSeconds:0.0}/s), failed: {failed}; CPU: {cpu:0.00} cores of {Environment.ProcessorCount} ({100 * cpu / Environment.ProcessorCount:0}%)"));
        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"memory: peak RSS {memory.PeakMb:0.0} MB, RSS drift {memory.DriftMb:0.0} MB (median of the last tenth vs. the second tenth of the run), managed heap drift {memory.ManagedDriftMb:0.0} MB, gen2 GCs {GC.CollectionCount(2)}"));
        if (recording is not null)
        {
            output.WriteLine(recording.Describe(elapsed));
        }

        output.WriteLine($"  target p99 overhead <= 20 ms with {settings.Conversations} conversations: {(overhead.P99 <= 20 ? "met" : "NOT met")}");
        if (settings.Json)
        {
            output.WriteLine(Json.Line(new LoadSummary(
                settings.Conversations, turns, Samples.Round(overhead.P99), failed, Math.Round(memory.PeakMb, 1), double.IsNaN(memory.DriftMb) ? null : Math.Round(memory.DriftMb, 1), recording?.DroppedVideoFrames, recording?.Errors)));
        }

        return failed == 0 ? 0 : 1;
    }
}
