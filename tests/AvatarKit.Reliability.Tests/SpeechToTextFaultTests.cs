using System.Diagnostics;
using System.Text.Json;
using AvatarKit.Harness.Doubles;
using Microsoft.Extensions.AI;

namespace AvatarKit.Reliability.Tests;

/// <summary>Voice input survives a misbehaving speech-to-text service.</summary>
public sealed class SpeechToTextFaultTests
{
    [Fact]
    public async Task A_stream_dropped_mid_utterance_loses_no_utterance_and_reconnects()
    {
        using var chat = new PacedChatClient("Sure. Here it is.");
        await using var conversation = await HarnessConversation.StartAsync(
            chat, new SimulatedAvatarSession(), voice: true, cancellationToken: TestContext.Current.CancellationToken);
        var stt = conversation.SpeechToText!;
        stt.Send(ScriptedSpeechToText.SpeechStarted());
        stt.Send(ScriptedSpeechToText.Partial("what is the"));
        stt.Send(ScriptedSpeechToText.Final("what is the weather like", speechFinal: false));
        var dropped = Stopwatch.GetTimestamp();
        stt.Drop(new IOException("The WebSocket was reset by the peer."));
        await stt.Connected.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        var reconnect = Stopwatch.GetElapsedTime(dropped);

        var first = await conversation.NextTurnAsync(TimeSpan.FromSeconds(10));
        stt.Send(ScriptedSpeechToText.SpeechStarted());
        stt.Send(ScriptedSpeechToText.Final("and tomorrow", speechFinal: true));
        var second = await conversation.NextTurnAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(("what is the weather like", TurnOutcome.Completed), (first.UserText, first.Outcome));
        Assert.Equal(("and tomorrow", TurnOutcome.Completed), (second.UserText, second.Outcome));
        Assert.Equal(2, stt.Streams);
        Assert.True(conversation.Pipeline.IsVoiceInputActive);
        var error = Assert.Single(conversation.Errors);
        Assert.Equal((ConversationStage.SpeechToText, true), (error.Stage, error.Recoverable));

        // Generous for a loaded CI machine; the figure (about 0.2 s, the pipeline's first backoff) goes to the test output.
        Assert.InRange(reconnect, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        TestContext.Current.TestOutputHelper?.WriteLine($"reconnected after {reconnect.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task A_thousand_malformed_results_neither_crash_nor_stop_voice_input()
    {
        using var chat = new PacedChatClient("Fine.");
        await using var conversation = await HarnessConversation.StartAsync(
            chat, new SimulatedAvatarSession(), voice: true, cancellationToken: TestContext.Current.CancellationToken);
        var stt = conversation.SpeechToText!;
        var malformed = Malformed().Take(1000).ToList();
        foreach (var update in malformed)
        {
            stt.Send(update);
        }

        // Whatever the garbage started, a clean utterance afterwards is heard and answered.
        stt.Send(ScriptedSpeechToText.UtteranceEnd());
        stt.Send(ScriptedSpeechToText.SpeechStarted());
        stt.Send(ScriptedSpeechToText.Final("this one is clean", speechFinal: true));
        var deadline = Stopwatch.StartNew();
        ConversationTurnResult result;
        do
        {
            result = await conversation.NextTurnAsync(TimeSpan.FromSeconds(30));
        }
        while (result.UserText != "this one is clean" && deadline.Elapsed < TimeSpan.FromSeconds(60));

        Assert.Equal(("this one is clean", TurnOutcome.Completed), (result.UserText, result.Outcome));
        Assert.True(conversation.Pipeline.IsVoiceInputActive);
        Assert.NotEqual(ConversationState.Stopped, conversation.Pipeline.State);
        Assert.Equal(1, stt.Streams);
        Assert.All(conversation.Errors, e => Assert.True(e.Recoverable, e.Message));
    }

    private static IEnumerable<SpeechToTextResponseUpdate> Malformed()
    {
        var kinds = new[]
        {
            new SpeechToTextResponseUpdateKind("garbage"), new SpeechToTextResponseUpdateKind("deepgram.Metadata"), new SpeechToTextResponseUpdateKind("."),
            new SpeechToTextResponseUpdateKind("_speech_started_"), SpeechToTextResponseUpdateKind.Error, SpeechToTextResponseUpdateKind.SessionOpen,
            SpeechToTextResponseUpdateKind.SessionClose, SpeechToTextResponseUpdateKind.TextUpdating, SpeechToTextResponseUpdateKind.TextUpdated,
        };
        string?[] texts = [null, "", "   ", "\0\u0001\u001b[31m", "🙂🙃🙂", new string('x', 100_000), "\uD800", "a\r\nb", "speech_final"];
        object?[] finals = [null, true, "true", "maybe", 42, JsonDocument.Parse("true").RootElement, JsonDocument.Parse("{}").RootElement, new object()];
        TimeSpan?[] times = [null, TimeSpan.Zero, TimeSpan.FromTicks(-1), TimeSpan.MaxValue, TimeSpan.MinValue, TimeSpan.FromDays(400)];
        for (var i = 0; ; i++)
        {
            var update = new SpeechToTextResponseUpdate(texts[i % texts.Length])
            {
                Kind = kinds[i % kinds.Length],
                StartTime = times[(i / 3) % times.Length],
                EndTime = times[(i / 2) % times.Length],
            };
            if (i % 4 == 0)
            {
                update.AdditionalProperties = new() { [i % 8 == 0 ? "speech_final" : "deepgram.speech_final"] = finals[(i / 4) % finals.Length] };
            }

            yield return update;
        }
    }
}
