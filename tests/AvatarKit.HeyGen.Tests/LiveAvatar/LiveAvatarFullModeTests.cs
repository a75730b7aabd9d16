using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;

namespace AvatarKit.HeyGen.Tests;

/// <summary>FULL mode over the in-process room's data channel, against the emulated avatar.</summary>
public sealed class LiveAvatarFullModeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Speak_sends_the_event_on_the_data_channel_and_reports_speaking_started_then_ended()
    {
        await using var h = await LiveAvatarHarness.StartAsync();
        await using var session = await h.Service.StartSessionAsync(cancellationToken: Ct);
        await using var spy = await h.Rooms.JoinAsync(session.Room!.Name, "spy", Ct);
        var commands = new ConcurrentQueue<string>();
        spy.DataReceived += (_, e) =>
        {
            if (e.Packet.Topic == "agent-control")
            {
                commands.Enqueue(Encoding.UTF8.GetString(e.Packet.Payload.Span));
            }
        };
        var states = new ConcurrentQueue<AvatarSessionState>();
        session.StateChanged += (_, e) => states.Enqueue(e.Current);
        var started = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingStarted += h);
        var ended = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingEnded += h);

        await session.SpeakAsync("Hello there.", Ct);

        var start = await started;
        var end = await ended;
        Assert.Equal(start.UtteranceId, end.UtteranceId);
        Assert.Equal("Hello there.", end.Text);
        Assert.False(end.Interrupted);
        Assert.True(end.Timestamp > start.Timestamp);
        Assert.Equal("heygen", session.AvatarIdentity);
        await Waits.UntilAsync(() => !commands.IsEmpty, "the spy saw the command");
        LiveAvatarApiTests.AssertJson($$"""{ "event_type": "avatar.speak_text", "event_id": "{{start.UtteranceId}}", "text": "Hello there." }""", commands.Single());
        await Waits.UntilAsync(() => session.State == AvatarSessionState.Listening, "the session listens");
        Assert.Equal([AvatarSessionState.Speaking, AvatarSessionState.Listening], states);
    }

    [Fact]
    public async Task Interrupt_mid_sentence_ends_the_utterance_early()
    {
        await using var h = await LiveAvatarHarness.StartAsync();
        await using var session = await h.Service.StartSessionAsync(cancellationToken: Ct);
        var started = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingStarted += h);
        var ended = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingEnded += h);
        const string text = "This is a long sentence that would take the avatar several seconds to say out loud to the user.";

        await session.SpeakAsync(text, Ct);
        var start = await started;
        await session.InterruptAsync(Ct);
        var end = await ended;

        // 96 characters at 15 characters per second is 6.4 s of speech: it ended before it could have been said.
        Assert.True(end.Timestamp - start.Timestamp < TimeSpan.FromSeconds(6.4), $"Ended after {end.Timestamp - start.Timestamp}.");
        Assert.False(h.Emulator.GetAvatar(session.SessionId)!.IsSpeaking);
    }

    [Fact]
    public async Task Streamed_text_is_spoken_before_the_last_sentence_arrives()
    {
        await using var h = await LiveAvatarHarness.StartAsync();
        await using var session = await h.Service.StartSessionAsync(cancellationToken: Ct);
        var started = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingStarted += h);
        var release = new TaskCompletionSource();

        var speaking = session.SpeakAsync(Tokens(release.Task, Ct), Ct);
        var first = await started;
        Assert.False(speaking.IsCompleted);
        release.SetResult();
        await speaking;

        Assert.Equal("Hi there.", first.Text);

        static async IAsyncEnumerable<string> Tokens(Task last, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            // The chunker closes "Hi there." once the next word starts; "Bye now." waits for the release.
            yield return "Hi ";
            yield return "there. ";
            yield return "Bye";
            await last.WaitAsync(cancellationToken);
            yield return " now.";
        }
    }

    [Fact]
    public async Task Malformed_and_unknown_server_events_are_ignored()
    {
        await using var h = await LiveAvatarHarness.StartAsync();
        await using var session = await h.Service.StartSessionAsync(cancellationToken: Ct);

        await h.Emulator.PublishRawFullAsync(session.SessionId, "not json"u8.ToArray(), Ct);
        await h.Emulator.PublishRawFullAsync(session.SessionId, """{"event_type":"avatar.teleported","where":"mars"}"""u8.ToArray(), Ct);
        await h.Emulator.PublishRawFullAsync(session.SessionId, """{"event_type":42}"""u8.ToArray(), Ct);
        await h.Emulator.PublishRawFullAsync(session.SessionId, """{"no_type":true}"""u8.ToArray(), Ct);
        var ended = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingEnded += h);
        await session.SpeakAsync("Still here.", Ct);

        Assert.Equal("Still here.", (await ended).Text);
        Assert.Equal(AvatarSessionState.Listening, session.State);
    }

    [Fact]
    public async Task Speak_as_response_reports_the_user_and_avatar_transcripts()
    {
        await using var h = await LiveAvatarHarness.StartAsync(o => o.SpeakAsResponse = true);
        await using var session = (ILiveAvatarSession)await h.Service.StartSessionAsync(cancellationToken: Ct);
        var transcripts = new ConcurrentQueue<AvatarTranscriptEventArgs>();
        session.TranscriptReceived += (_, e) => transcripts.Enqueue(e);
        var ended = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingEnded += h);

        await session.SpeakAsync("What time is it?", Ct);
        await ended;

        Assert.Contains(transcripts, t => t.Role == "user" && t.Text == "What time is it?");
        Assert.Contains(transcripts, t => t.Role == "avatar" && t.Text == "You said: What time is it?");
        Assert.Equal(LiveAvatarMode.Full, session.Mode);

        // The first minute is charged by the session's meter task once it opened, not by the start itself.
        await Waits.UntilAsync(() => session.EstimatedCredits > 0, "the first minute was charged");
        Assert.Equal(2, session.EstimatedCredits);
    }

    [Fact]
    public async Task A_session_the_server_ends_closes_with_the_reason_and_rejects_speech()
    {
        await using var h = await LiveAvatarHarness.StartAsync();
        await using var session = await h.Service.StartSessionAsync(cancellationToken: Ct);
        var closed = new TaskCompletionSource<AvatarSessionStateChangedEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        session.StateChanged += (_, e) =>
        {
            if (e.Current == AvatarSessionState.Closed)
            {
                closed.TrySetResult(e);
            }
        };

        await h.Emulator.EndSessionAsync(session.SessionId, "NO_CREDITS");

        var change = await closed.Task.WaitAsync(Waits.Soon, Ct);
        Assert.Equal("NO_CREDITS", change.Reason);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => session.SpeakAsync("Anyone?", Ct));
        Assert.Contains("NO_CREDITS", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, h.Emulator.OpenSessionCount);
    }

    [Fact]
    public async Task The_keep_alive_loop_pings_while_the_session_lives()
    {
        await using var h = await LiveAvatarHarness.StartAsync(o => o.KeepAliveInterval = TimeSpan.FromMilliseconds(100));
        var session = await h.Service.StartSessionAsync(cancellationToken: Ct);

        await Waits.UntilAsync(() => h.Emulator.Requests.Count(r => r.Path == "/v1/sessions/keep-alive") >= 2, "two keep-alives were sent");
        await session.DisposeAsync();
        var count = h.Emulator.Requests.Count(r => r.Path == "/v1/sessions/keep-alive");
        await Task.Delay(300, Ct);

        Assert.Equal(count, h.Emulator.Requests.Count(r => r.Path == "/v1/sessions/keep-alive"));
    }
}
