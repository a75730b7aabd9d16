using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace AvatarKit.Tests.Conversation;

public sealed class AvatarPipelineTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task First_sentence_reaches_the_avatar_before_the_chat_client_finishes()
    {
        var release = new TaskCompletionSource();
        var chat = new TestChatClient { Answer = (_, ct) => Gated(release.Task, ["Hello there. ", "I am "], ["still thinking. ", "Bye."], ct) };
        var session = new TestAvatarSession();
        await using var pipeline = AvatarPipeline.CreateBuilder().UseChatClient(chat).UseAvatarSession(session).Build();
        await pipeline.StartAsync(Ct);

        var turn = pipeline.SendTextAsync("Hi", Ct);
        var first = await session.SpokenReader.ReadAsync(Ct).AsTask().WaitAsync(EventLog.HangGuard, Ct);

        Assert.Equal("Hello there.", first);
        Assert.False(turn.IsCompleted);
        release.SetResult();
        var result = await turn;
        Assert.Equal(TurnOutcome.Completed, result.Outcome);
        Assert.Equal(["Hello there.", "I am still thinking.", "Bye."], session.Spoken);
        Assert.Equal("Hello there. I am still thinking. Bye.", result.SpokenText);
        Assert.NotNull(result.Metrics.TranscriptToFirstToken);
        Assert.NotNull(result.Metrics.ToFirstSpeech);
        Assert.NotNull(result.Metrics.PipelineOverhead);
    }

    [Fact]
    public async Task History_keeps_the_system_prompt_and_every_turn()
    {
        var chat = new TestChatClient();
        var session = new TestAvatarSession();
        await using var pipeline = AvatarPipeline.CreateBuilder().UseChatClient(chat).UseAvatarSession(session)
            .Configure(o => o.SystemPrompt = "Be brief.").Build();
        await pipeline.StartAsync(Ct);

        await pipeline.SendTextAsync("My name is Ada.", Ct);
        await pipeline.SendTextAsync("What is my name?", Ct);

        var second = chat.Requests[1];
        Assert.Equal(ChatRole.System, second[0].Role);
        Assert.Equal("Be brief.", second[0].Text);
        Assert.Equal(["My name is Ada.", "Hello. How can I help?", "What is my name?"], second.Skip(1).Select(m => m.Text));
    }

    [Fact]
    public async Task Interrupt_command_stops_the_avatar_and_keeps_only_what_was_said()
    {
        var chat = new TestChatClient { Answer = (_, ct) => Gated(new TaskCompletionSource().Task, ["First part. ", "Second part. "], ["Never said."], ct) };
        var session = new TestAvatarSession { AutoEnd = false };
        await using var pipeline = AvatarPipeline.CreateBuilder().UseChatClient(chat).UseAvatarSession(session).Build();
        var log = new EventLog(pipeline);
        await pipeline.StartAsync(Ct);

        var turn = pipeline.SendTextAsync("Tell me a long story", Ct);
        await log.WaitForAsync<AvatarSpeakingStartedEvent>();
        await pipeline.InterruptAsync(Ct);
        var result = await turn.WaitAsync(EventLog.HangGuard, Ct);

        Assert.Equal(TurnOutcome.Interrupted, result.Outcome);
        Assert.Equal(1, session.Interrupts);
        var interrupted = await log.WaitForAsync<InterruptedEvent>();
        Assert.Equal(InterruptReason.Command, interrupted.Reason);
        var assistant = pipeline.History.GetMessages()[^1];
        Assert.Equal(ChatRole.Assistant, assistant.Role);
        Assert.DoesNotContain("Never said", assistant.Text, StringComparison.Ordinal);
        Assert.StartsWith("First part.", assistant.Text, StringComparison.Ordinal);
        Assert.Equal(true, assistant.AdditionalProperties?[ConversationHistory.InterruptedProperty]);
    }

    [Fact]
    public async Task Barge_in_interrupts_the_answer_and_the_new_voice_turn_is_answered()
    {
        var stt = new TestSpeechToTextClient();
        var answers = 0;
        var chat = new TestChatClient
        {
            Answer = (_, ct) => Interlocked.Increment(ref answers) == 1
                ? Gated(new TaskCompletionSource().Task, ["Once upon a time. ", "There "], ["was the end."], ct)
                : TestChatClient.Tokens(ct, "Sure."),
        };
        var session = new TestAvatarSession { AutoEnd = false };
        await using var pipeline = AvatarPipeline.CreateBuilder().UseChatClient(chat).UseAvatarSession(session)
            .UseSpeechToText(stt, new TestAudioInput()).Build();
        var log = new EventLog(pipeline);
        await pipeline.StartAsync(Ct);

        stt.Send(TestSpeechToTextClient.Final("Tell me a story.", speechFinal: true));
        await log.WaitForAsync<AvatarSpeakingStartedEvent>();
        stt.Send(TestSpeechToTextClient.Signal(SpeechTurnSignals.SpeechStarted));
        var interrupted = await log.WaitForAsync<InterruptedEvent>();
        stt.Send(TestSpeechToTextClient.Final("Stop, tell me something short."));
        stt.Send(TestSpeechToTextClient.Signal(SpeechTurnSignals.UtteranceEnd));
        session.AutoEnd = true;
        var second = await log.WaitForAsync<TurnCompletedEvent>(e => e.Result.TurnId == 2);

        // The microphone's audio reaches the speech-to-text client on its own task: wait for it rather than sample it.
        await WaitUntilAsync(() => Interlocked.Read(ref stt.BytesRead) > 0);

        Assert.Equal(InterruptReason.BargeIn, interrupted.Reason);
        Assert.Equal("Once upon a time.", interrupted.SpokenText);
        Assert.Equal(TurnOutcome.Completed, second.Result.Outcome);
        Assert.Equal(ConversationInputSource.Voice, log.OfType<UserTurnEvent>().Last().Source);
        Assert.Equal(
            ["Tell me a story.", "Once upon a time.", "Stop, tell me something short.", "Sure."],
            pipeline.History.GetMessages().Select(m => m.Text));
    }

    [Theory]
    [InlineData(long.MaxValue)]
    [InlineData(long.MinValue)]
    [InlineData(400 * TimeSpan.TicksPerDay)]
    [InlineData(-1)]
    public async Task A_speech_to_text_end_time_far_out_of_range_is_clamped_to_the_audio_captured(long endTicks)
    {
        var stt = new TestSpeechToTextClient();
        var chat = new TestChatClient { Answer = (_, ct) => TestChatClient.Tokens(ct, "Sure.") };
        await using var pipeline = AvatarPipeline.CreateBuilder().UseChatClient(chat).UseAvatarSession(new TestAvatarSession())
            .UseSpeechToText(stt, new TestAudioInput()).Build();
        var log = new EventLog(pipeline);
        await pipeline.StartAsync(Ct);

        // Times are only meaningful once audio flows.
        await WaitUntilAsync(() => Interlocked.Read(ref stt.BytesRead) > 0);

        var update = TestSpeechToTextClient.Final("What time is it?", speechFinal: true);
        update.EndTime = TimeSpan.FromTicks(endTicks);
        stt.Send(update);
        var completed = await log.WaitForAsync<TurnCompletedEvent>();

        Assert.Equal(TurnOutcome.Completed, completed.Result.Outcome);
        var metrics = completed.Result.Metrics;
        Assert.InRange(metrics.EndOfSpeechToTranscript!.Value, TimeSpan.Zero, TimeSpan.FromSeconds(30));
        Assert.InRange(metrics.ToFirstSpeech!.Value, TimeSpan.Zero, TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_chat_failure_becomes_an_event_and_the_next_turn_is_answered()
    {
        var calls = 0;
        var chat = new TestChatClient
        {
            Answer = (_, ct) => Interlocked.Increment(ref calls) == 1 ? Failing(ct) : TestChatClient.Tokens(ct, "Back again."),
        };
        var session = new TestAvatarSession();
        await using var pipeline = AvatarPipeline.CreateBuilder().UseChatClient(chat).UseAvatarSession(session).Build();
        var log = new EventLog(pipeline);
        await pipeline.StartAsync(Ct);

        var failed = await pipeline.SendTextAsync("Hello?", Ct);
        var next = await pipeline.SendTextAsync("Hello again?", Ct);

        // Events reach the log on their own task; the second turn's completion comes after the first turn's error.
        await log.WaitForAsync<TurnCompletedEvent>(e => e.Result.TurnId == next.TurnId);

        Assert.Equal(TurnOutcome.Failed, failed.Outcome);
        var error = Assert.Single(log.OfType<ConversationErrorEvent>());
        Assert.Equal(ConversationStage.Chat, error.Stage);
        Assert.True(error.Recoverable);
        Assert.Contains("503", error.Message, StringComparison.Ordinal);
        Assert.Equal(TurnOutcome.Completed, next.Outcome);
        Assert.Equal(["Hello again?", "Back again."], pipeline.History.GetMessages().Select(m => m.Text));
    }

    [Fact]
    public async Task An_avatar_failure_becomes_an_event_and_the_next_turn_is_answered()
    {
        var session = new TestAvatarSession();
        var fail = true;
        session.SpeakFailure = _ => fail ? new AvatarApiException("Too many requests", System.Net.HttpStatusCode.TooManyRequests, "429", "slow down", null) : null;
        await using var pipeline = AvatarPipeline.CreateBuilder().UseChatClient(new TestChatClient()).UseAvatarSession(session).Build();
        var log = new EventLog(pipeline);
        await pipeline.StartAsync(Ct);

        var failed = await pipeline.SendTextAsync("Hello?", Ct);
        fail = false;
        var next = await pipeline.SendTextAsync("Hello again?", Ct);

        // Events reach the log on their own task; the second turn's completion comes after the first turn's error.
        await log.WaitForAsync<TurnCompletedEvent>(e => e.Result.TurnId == next.TurnId);

        Assert.Equal(TurnOutcome.Failed, failed.Outcome);
        var error = Assert.Single(log.OfType<ConversationErrorEvent>());
        Assert.Equal(ConversationStage.Avatar, error.Stage);
        Assert.True(error.Recoverable);
        Assert.Equal(TurnOutcome.Completed, next.Outcome);
    }

    [Fact]
    public async Task A_speech_to_text_failure_becomes_an_event_and_voice_input_reconnects()
    {
        var stt = new TestSpeechToTextClient();
        var session = new TestAvatarSession();
        await using var pipeline = AvatarPipeline.CreateBuilder().UseChatClient(new TestChatClient()).UseAvatarSession(session)
            .UseSpeechToText(stt, new TestAudioInput()).Build();
        var log = new EventLog(pipeline);
        await pipeline.StartAsync(Ct);

        await WaitUntilAsync(() => Volatile.Read(ref stt.Sessions) > 0);

        stt.Fail(new IOException("socket dropped"));
        var error = await log.WaitForAsync<ConversationErrorEvent>();
        stt.Send(TestSpeechToTextClient.Final("Are you there?", speechFinal: true));
        var turn = await log.WaitForAsync<TurnCompletedEvent>();

        Assert.Equal(ConversationStage.SpeechToText, error.Stage);
        Assert.Contains("socket dropped", error.Message, StringComparison.Ordinal);
        Assert.Equal("Are you there?", turn.Result.UserText);
        Assert.True(stt.Sessions >= 2);
        Assert.True(pipeline.IsVoiceInputActive);
    }

    [Fact]
    public async Task The_avatar_session_ending_stops_the_conversation_with_the_reason()
    {
        var session = new TestAvatarSession();
        var pipeline = AvatarPipeline.CreateBuilder().UseChatClient(new TestChatClient()).UseAvatar(new TestAvatarService(session)).Build();
        var log = new EventLog(pipeline);
        await pipeline.StartAsync(Ct);

        session.Close("credits exhausted");
        var stopped = await log.WaitForAsync<ConversationStoppedEvent>();
        await log.Completion.WaitAsync(EventLog.HangGuard, Ct);

        Assert.Contains("credits exhausted", stopped.Reason, StringComparison.Ordinal);
        Assert.Contains(log.OfType<ConversationErrorEvent>(), e => e.Stage == ConversationStage.Avatar && !e.Recoverable);
        Assert.Equal(ConversationState.Stopped, pipeline.State);
        await Assert.ThrowsAsync<InvalidOperationException>(() => pipeline.SendTextAsync("Hello?", Ct));
        await pipeline.DisposeAsync();
        Assert.Equal(1, session.Disposals);
    }

    [Fact]
    public async Task Recording_gets_one_clip_per_answer_the_transcript_and_is_finalized_at_stop()
    {
        var server = new InProcessRoomServer();
        await using var room = await server.JoinAsync("r", "viewer", Ct);
        var session = new TestAvatarSession { Room = room };
        var recorder = new TestRecorder();
        var pipeline = AvatarPipeline.CreateBuilder().UseChatClient(new TestChatClient()).UseAvatar(new TestAvatarService(session)).UseRecording(recorder).Build();
        await pipeline.StartAsync(Ct);

        var first = await pipeline.SendTextAsync("One", Ct);
        await pipeline.SendTextAsync("Two", Ct);
        var result = await pipeline.StopAsync(cancellationToken: Ct);

        Assert.Equal("avatar", recorder.Request?.ParticipantIdentity);
        Assert.Same(room, recorder.Request?.Room);
        Assert.Equal(["begin", "end", "begin", "end"], recorder.Recording!.Log);
        Assert.Equal("voice_task_0.mp4", first.Clip?.FilePath);
        Assert.Equal(("user", "One"), recorder.Recording.Transcript[0]);
        Assert.Equal(("avatar", "Hello. How can I help?"), recorder.Recording.Transcript[1]);
        Assert.True(recorder.Recording.Completed);
        Assert.Equal(2, result?.Clips.Count);
        Assert.Equal(1, session.Disposals);
    }

    [Fact]
    public async Task A_recording_failure_becomes_an_event_and_the_conversation_goes_on()
    {
        var server = new InProcessRoomServer();
        await using var room = await server.JoinAsync("r", "viewer", Ct);
        var recorder = new TestRecorder();
        await using var pipeline = AvatarPipeline.CreateBuilder().UseChatClient(new TestChatClient())
            .UseAvatarSession(new TestAvatarSession { Room = room }).UseRecording(recorder).Build();
        var log = new EventLog(pipeline);
        await pipeline.StartAsync(Ct);

        recorder.Recording!.RaiseFailed(new IOException("No space left on device"));
        var turn = await pipeline.SendTextAsync("Still there?", Ct);

        var error = await log.WaitForAsync<ConversationErrorEvent>();
        Assert.Equal(ConversationStage.Recording, error.Stage);
        Assert.Contains("No space left", error.Message, StringComparison.Ordinal);
        Assert.Equal(TurnOutcome.Completed, turn.Outcome);
    }

    [Fact]
    public async Task A_failed_session_start_reports_the_reason_and_throws()
    {
        var service = new TestAvatarService(new TestAvatarSession()) { StartFailure = new AvatarApiException("Concurrency limit reached") };
        var pipeline = AvatarPipeline.CreateBuilder().UseChatClient(new TestChatClient()).UseAvatar(service).Build();
        var log = new EventLog(pipeline);

        var ex = await Assert.ThrowsAsync<AvatarApiException>(() => pipeline.StartAsync(Ct));
        var stopped = await log.WaitForAsync<ConversationStoppedEvent>();

        Assert.Equal("Concurrency limit reached", ex.Message);
        Assert.Contains("Concurrency limit reached", stopped.Reason, StringComparison.Ordinal);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + EventLog.HangGuard;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition never became true.");
            await Task.Delay(10, Ct);
        }
    }

    private static async IAsyncEnumerable<string> Gated(Task gate, string[] before, string[] after, [EnumeratorCancellation] CancellationToken ct)
    {
        foreach (var token in before)
        {
            yield return token;
        }

        await gate.WaitAsync(ct);
        foreach (var token in after)
        {
            yield return token;
        }
    }

    private static async IAsyncEnumerable<string> Failing([EnumeratorCancellation] CancellationToken ct)
    {
        await Task.Yield();
        ct.ThrowIfCancellationRequested();
        throw new HttpRequestException("503 Service Unavailable: the model is overloaded");
#pragma warning disable CS0162 // An iterator needs a yield.
        yield break;
#pragma warning restore CS0162
    }
}
