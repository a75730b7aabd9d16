using System.Collections.Concurrent;
using AvatarKit.Harness.Doubles;
using AvatarKit.Testing.Gemini;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace AvatarKit.Reliability.Tests;

/// <summary>The conversation survives a misbehaving LLM service (Gemini emulator's fault injection, real HTTP).</summary>
public sealed class LlmFaultTests
{
    private const string Key = "emulator-key";

    [Fact]
    public async Task Twenty_percent_of_LLM_calls_failing_with_429_or_5xx_fail_no_turn()
    {
        await using var run = await GeminiConversation.StartAsync(Key, Key);
        GeminiEmulatorFault[] failures =
        [
            GeminiEmulatorFault.RateLimited(TimeSpan.FromMilliseconds(20)),
            GeminiEmulatorFault.Unavailable(),
            GeminiEmulatorFault.Internal(),
            GeminiEmulatorFault.Error(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
        ];

        // One call in five fails, at a random place in each block of five: 20 % overall, spread as a
        // steady fault rate is. Calls that do not fail take a no-op fault (no extra delay).
        var random = new Random(20);
        var pattern = new List<bool>();
        for (var block = 0; block < 60; block++)
        {
            var failing = random.Next(5);
            for (var call = 0; call < 5; call++)
            {
                pattern.Add(call == failing);
                run.Emulator.EnqueueFault(call == failing ? failures[random.Next(failures.Length)] : GeminiEmulatorFault.SlowFirstToken(TimeSpan.Zero));
            }
        }

        const int turns = 40;
        var outcomes = new List<TurnOutcome>();
        for (var i = 0; i < turns; i++)
        {
            var result = await run.Pipeline.SendTextAsync($"Question number {i}?", TestContext.Current.CancellationToken)
                .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            outcomes.Add(result.Outcome);
            Assert.Contains($"Question number {i}?", result.AnswerText, StringComparison.Ordinal);
        }

        var calls = run.Emulator.Requests.Count(r => r.Operation == "streamGenerateContent");
        var failed = pattern.Take(calls).Count(f => f);
        Assert.All(outcomes, outcome => Assert.Equal(TurnOutcome.Completed, outcome));
        Assert.Equal(turns + failed, calls);
        Assert.InRange((double)failed / calls, 0.15, 0.25);
        TestContext.Current.TestOutputHelper?.WriteLine($"{calls} LLM calls, {failed} failed with 429/5xx, {turns} turns, 0 failed turns.");
    }

    [Fact]
    public async Task A_thousand_malformed_or_broken_LLM_streams_neither_crash_nor_hang_the_conversation()
    {
        await using var run = await GeminiConversation.StartAsync(Key, Key);
        const int faults = 1000;
        for (var i = 0; i < faults; i++)
        {
            var after = 1 + (i % 3);
            run.Emulator.EnqueueFault((i % 5) switch
            {
                0 => GeminiEmulatorFault.MalformedChunk(after),
                1 => GeminiEmulatorFault.CutMidEvent(after),
                2 => GeminiEmulatorFault.ErrorEvent(after),
                3 => GeminiEmulatorFault.EndWithoutFinishReason(after),
                _ => GeminiEmulatorFault.CutMidAnswer(after),
            });
        }

        // Four conversations share the broken service, so the thousand streams fit the CI budget.
        var conversations = new List<HarnessConversation> { run.Conversation };
        for (var i = 1; i < 4; i++)
        {
            conversations.Add(await HarnessConversation.StartAsync(
                run.Services.GetRequiredService<IChatClient>(), new SimulatedAvatarSession(), voice: false, cancellationToken: TestContext.Current.CancellationToken));
        }

        var outcomes = new ConcurrentDictionary<TurnOutcome, int>();
        var turns = 0;
        await Task.WhenAll(conversations.Select(async conversation =>
        {
            while (run.Emulator.Requests.Count < faults)
            {
                // A hang shows as this timeout; a crash as an exception or a stopped pipeline.
                var result = await conversation.Pipeline.SendTextAsync($"Turn {Interlocked.Increment(ref turns)}", TestContext.Current.CancellationToken)
                    .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
                outcomes.AddOrUpdate(result.Outcome, 1, (_, n) => n + 1);
            }
        }));

        foreach (var extra in conversations.Skip(1))
        {
            Assert.NotEqual(ConversationState.Stopped, extra.Pipeline.State);
            Assert.All(extra.Errors, e => Assert.True(e.Recoverable, e.Message));
            await extra.DisposeAsync();
        }

        var last = await run.Pipeline.SendTextAsync("Are you still there?", TestContext.Current.CancellationToken)
            .WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal(TurnOutcome.Completed, last.Outcome);
        Assert.Contains("Are you still there?", last.AnswerText, StringComparison.Ordinal);
        Assert.NotEqual(ConversationState.Stopped, run.Pipeline.State);
        Assert.All(run.Conversation.Errors, e => Assert.True(e.Recoverable, e.Message));
        Assert.True(outcomes.GetValueOrDefault(TurnOutcome.Failed) > 0, "the faults must show as failed turns");
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{faults} broken streams over {turns} turns: {string.Join(", ", outcomes.Select(o => $"{o.Value} {o.Key}"))}.");
    }
}
