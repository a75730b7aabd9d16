using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace AvatarKit.Tests.Conversation;

/// <summary>Runs alone: the <c>AvatarKit</c> meter and activity source are process-wide, so other tests' turns would mix in.</summary>
[CollectionDefinition(nameof(TelemetryTests), DisableParallelization = true)]
public sealed class TelemetryTests;

[Collection(nameof(TelemetryTests))]
public sealed class ConversationTelemetryTests
{
    private const string EndOfSpeechToTranscript = "avatarkit.turn.end_of_speech_to_transcript";
    private const string TimeToFirstToken = "avatarkit.turn.time_to_first_token";
    private const string FirstTokenToFirstSentence = "avatarkit.turn.first_token_to_first_sentence";
    private const string FirstSentenceToSpeaking = "avatarkit.turn.first_sentence_to_speaking";
    private const string ToFirstSpeech = "avatarkit.turn.to_first_speech";
    private const string PipelineOverhead = "avatarkit.turn.pipeline_overhead";

    // The test doubles wait this long at each stage, so the chat and avatar stages have a known floor.
    private static readonly TimeSpan UtteranceEndDelay = TimeSpan.FromMilliseconds(80);
    private static readonly TimeSpan FirstTokenDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan AvatarSpeechDelay = TimeSpan.FromMilliseconds(40);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Each_stage_latency_is_recorded_once_per_turn_and_the_turn_spans_nest_their_stages()
    {
        using var telemetry = new TelemetryCapture();
        var stt = new TestSpeechToTextClient();
        var chat = new TestChatClient { Answer = (_, ct) => SlowStart(ct) };
        var session = new TestAvatarSession();
        var results = new List<ConversationTurnResult>();
        var wallTimes = new List<TimeSpan>();
        await using (var pipeline = AvatarPipeline.CreateBuilder().UseChatClient(chat).UseAvatarSession(session).UseSpeechToText(stt, new TestAudioInput()).Build())
        {
            var log = new EventLog(pipeline);

            // The avatar starts speaking AvatarSpeechDelay after the pipeline counted the sentence as accepted (it
            // publishes the sentence's event right after), so the avatar stage has a known floor however loaded the machine.
            session.SpeechStart = async index =>
            {
                await log.WaitForCountAsync<AnswerSentenceEvent>(index + 1);
                await Task.Delay(AvatarSpeechDelay, CancellationToken.None);
            };
            await pipeline.StartAsync(Ct);
            for (var id = 1; id <= 2; id++)
            {
                var started = Stopwatch.GetTimestamp();
                stt.Send(TestSpeechToTextClient.Final($"Voice question {id}."));
                await Task.Delay(UtteranceEndDelay, Ct);
                stt.Send(TestSpeechToTextClient.Signal(SpeechTurnSignals.UtteranceEnd));
                var turnId = id;
                results.Add((await log.WaitForAsync<TurnCompletedEvent>(e => e.Result.TurnId == turnId)).Result);
                wallTimes.Add(Stopwatch.GetElapsedTime(started));
            }

            var typed = Stopwatch.GetTimestamp();
            results.Add(await pipeline.SendTextAsync("A typed question.", Ct));
            wallTimes.Add(Stopwatch.GetElapsedTime(typed));
            await pipeline.StopAsync(cancellationToken: Ct);
        }

        var (measurements, spans) = telemetry.Stop();
        Assert.All(results, r => Assert.Equal(TurnOutcome.Completed, r.Outcome));

        // One value per turn, in milliseconds, tagged with the outcome, equal to the turn's own metrics.
        double[] Values(string name, int expected)
        {
            var recorded = measurements.Where(m => m.Name == name).ToList();
            Assert.True(recorded.Count == expected, $"{name}: {recorded.Count} values, expected {expected}");
            Assert.All(recorded, m => Assert.Equal("ms", m.Unit));
            Assert.All(recorded, m => Assert.Contains(new KeyValuePair<string, object?>("avatarkit.turn.outcome", "Completed"), m.Tags));
            return [.. recorded.Select(m => m.Value)];
        }

        var endOfSpeech = Values(EndOfSpeechToTranscript, 2);
        var firstToken = Values(TimeToFirstToken, 3);
        var firstSentence = Values(FirstTokenToFirstSentence, 3);
        var speaking = Values(FirstSentenceToSpeaking, 3);
        var toFirstSpeech = Values(ToFirstSpeech, 3);
        var overhead = Values(PipelineOverhead, 3);
        Assert.Equal(3, measurements.Count(m => m.Name == "avatarkit.turns"));
        for (var i = 0; i < 3; i++)
        {
            var metrics = results[i].Metrics;
            var wall = wallTimes[i].TotalMilliseconds;
            var voice = i < 2;
            Assert.Equal(metrics.TranscriptToFirstToken!.Value.TotalMilliseconds, firstToken[i]);
            Assert.Equal(metrics.FirstTokenToFirstSentence!.Value.TotalMilliseconds, firstSentence[i]);
            Assert.Equal(metrics.FirstSentenceToSpeaking!.Value.TotalMilliseconds, speaking[i]);
            Assert.Equal(metrics.ToFirstSpeech!.Value.TotalMilliseconds, toFirstSpeech[i]);

            // Plausible: at least what the doubles waited, never more than the turn took, and the stages add up.
            var stages = (voice ? endOfSpeech[i] : 0) + firstToken[i] + firstSentence[i] + speaking[i];
            Assert.InRange(firstToken[i], FirstTokenDelay.TotalMilliseconds - 2, wall);
            Assert.InRange(firstSentence[i], 0, wall);
            Assert.InRange(speaking[i], AvatarSpeechDelay.TotalMilliseconds - 2, wall);
            Assert.InRange(toFirstSpeech[i], stages - 0.01, stages + 0.01);
            Assert.InRange(toFirstSpeech[i], 0, wall);
            Assert.InRange(overhead[i], 0, toFirstSpeech[i]);
            if (voice)
            {
                Assert.Equal(metrics.EndOfSpeechToTranscript!.Value.TotalMilliseconds, endOfSpeech[i]);
                // The utterance end came UtteranceEndDelay after the final transcript, less however late the final was handled.
                Assert.InRange(endOfSpeech[i], double.Epsilon, wall);
            }
            else
            {
                Assert.Null(metrics.EndOfSpeechToTranscript);
            }
        }

        // Each turn is one trace: the turn span, with the chat stream and every sentence spoken inside it.
        var turns = spans.Where(s => s.OperationName == "avatarkit.turn").OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(3, turns.Count);
        Assert.Equal(3, turns.Select(t => t.TraceId).Distinct().Count());
        for (var i = 0; i < 3; i++)
        {
            var turn = turns[i];
            Assert.Equal(default, turn.ParentSpanId);
            Assert.Equal(i + 1, turn.GetTagItem("avatarkit.turn.id"));
            Assert.Equal(i < 2 ? "Voice" : "Text", turn.GetTagItem("avatarkit.turn.source"));
            Assert.Equal("Completed", turn.GetTagItem("avatarkit.turn.outcome"));
            Assert.Contains(turn.Events, e => e.Name == "first_token");
            var children = spans.Where(s => s.ParentSpanId == turn.SpanId).ToList();
            Assert.All(children, c => Assert.Equal(turn.TraceId, c.TraceId));
            Assert.All(children, c => Assert.InRange(c.StartTimeUtc, turn.StartTimeUtc, turn.StartTimeUtc + turn.Duration));
            Assert.All(children, c => Assert.True(c.StartTimeUtc + c.Duration <= turn.StartTimeUtc + turn.Duration, $"{c.OperationName} ends after its turn"));
            Assert.Single(children, c => c.OperationName == "avatarkit.chat");
            Assert.Equal([0, 1], children.Where(c => c.OperationName == "avatarkit.avatar.speak").Select(c => (int)c.GetTagItem("avatarkit.sentence.index")!).Order());
            Assert.Equal(3, children.Count);
        }
    }

    [Fact]
    public async Task An_interrupt_records_its_latency_and_its_span_inside_the_turn_it_cuts()
    {
        using var telemetry = new TelemetryCapture();
        var chat = new TestChatClient { Answer = (_, ct) => Unfinished(ct) };
        var session = new TestAvatarSession { AutoEnd = false };
        InterruptedEvent interrupted;
        ConversationTurnResult result;
        await using (var pipeline = AvatarPipeline.CreateBuilder().UseChatClient(chat).UseAvatarSession(session).Build())
        {
            var log = new EventLog(pipeline);
            await pipeline.StartAsync(Ct);
            var turn = pipeline.SendTextAsync("Tell me a long story.", Ct);
            await log.WaitForAsync<AvatarSpeakingStartedEvent>();
            await pipeline.InterruptAsync(Ct);
            result = await turn;
            interrupted = await log.WaitForAsync<InterruptedEvent>();
            await pipeline.StopAsync(cancellationToken: Ct);
        }

        var (measurements, spans) = telemetry.Stop();
        Assert.Equal(TurnOutcome.Interrupted, result.Outcome);
        var latency = Assert.Single(measurements, m => m.Name == "avatarkit.interrupt.latency");
        Assert.Equal("ms", latency.Unit);
        Assert.Equal(interrupted.Latency.TotalMilliseconds, latency.Value);
        Assert.Contains(new KeyValuePair<string, object?>("avatarkit.interrupt.reason", "Command"), latency.Tags);
        var turns = Assert.Single(measurements, m => m.Name == "avatarkit.turns");
        Assert.Contains(new KeyValuePair<string, object?>("avatarkit.turn.outcome", "Interrupted"), turns.Tags);
        Assert.All(measurements.Where(m => m.Name.StartsWith("avatarkit.turn.", StringComparison.Ordinal)), m => Assert.Contains(new KeyValuePair<string, object?>("avatarkit.turn.outcome", "Interrupted"), m.Tags));

        var turnSpan = Assert.Single(spans, s => s.OperationName == "avatarkit.turn");
        var interruptSpan = Assert.Single(spans, s => s.OperationName == "avatarkit.interrupt");
        Assert.Equal(turnSpan.TraceId, interruptSpan.TraceId);
        Assert.Equal(turnSpan.SpanId, interruptSpan.ParentSpanId);
        Assert.Equal("Command", interruptSpan.GetTagItem("avatarkit.interrupt.reason"));
        Assert.Equal("Interrupted", turnSpan.GetTagItem("avatarkit.turn.outcome"));
        Assert.Equal(true, Assert.Single(spans, s => s.OperationName == "avatarkit.chat").GetTagItem("avatarkit.chat.cancelled"));
    }

    private static async IAsyncEnumerable<string> Unfinished([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return "Once upon a time. ";
        yield return "There "; // the chunker releases a sentence once the next one begins
        await Task.Delay(Timeout.Infinite, cancellationToken);
        yield return "Never said.";
    }

    private static async IAsyncEnumerable<string> SlowStart([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Delay(FirstTokenDelay, cancellationToken);
        yield return "Hello there. ";
        await Task.Yield();
        yield return "How are you?";
    }

    private sealed record Measurement(string Name, string? Unit, double Value, KeyValuePair<string, object?>[] Tags);

    /// <summary>Listens to the <c>AvatarKit</c> meter and activity source from creation until <see cref="Stop"/>.</summary>
    private sealed class TelemetryCapture : IDisposable
    {
        private readonly ConcurrentQueue<Measurement> _measurements = new();
        private readonly ConcurrentQueue<Activity> _spans = new();
        private readonly MeterListener _meterListener = new();
        private readonly ActivityListener _activityListener;

        public TelemetryCapture()
        {
            // Each turn must start its own trace, not nest under whatever the test runner has open.
            Activity.Current = null;
            _meterListener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == "AvatarKit")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _meterListener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => _measurements.Enqueue(new(instrument.Name, instrument.Unit, value, tags.ToArray())));
            _meterListener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => _measurements.Enqueue(new(instrument.Name, instrument.Unit, value, tags.ToArray())));
            _meterListener.Start();
            _activityListener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == "AvatarKit",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _spans.Enqueue,
            };
            ActivitySource.AddActivityListener(_activityListener);
        }

        public (IReadOnlyList<Measurement> Measurements, IReadOnlyList<Activity> Spans) Stop()
        {
            Dispose();
            return ([.. _measurements], [.. _spans]);
        }

        public void Dispose()
        {
            _meterListener.Dispose();
            _activityListener.Dispose();
        }
    }
}
