using System.Runtime.CompilerServices;
using AvatarKit.Testing.LiveAvatar;
using Microsoft.Extensions.DependencyInjection;

namespace AvatarKit.HeyGen.Tests;

/// <summary>LITE mode: our TTS audio streamed over the real WebSocket of the emulator.</summary>
public sealed class LiveAvatarLiteModeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Task<LiveAvatarHarness> StartAsync(Action<LiveAvatarOptions>? configure = null) =>
        LiveAvatarHarness.StartAsync(o =>
        {
            o.Mode = LiveAvatarMode.Lite;
            configure?.Invoke(o);
        });

    [Fact]
    public async Task Speak_streams_24kHz_audio_in_the_documented_chunks_then_commits()
    {
        await using var h = await StartAsync();
        await using var session = await h.Service.StartSessionAsync(cancellationToken: Ct);
        var started = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingStarted += h);
        var ended = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingEnded += h);

        // 49 characters at 40 ms each: 1.96 s of 16 kHz speech, 94,080 bytes at 24 kHz.
        await session.SpeakAsync("Fifty characters of text to say, give or take ok.", Ct);
        var start = await started;
        var end = await ended;

        var messages = h.Emulator.LiteMessages.Where(m => m.EventId == start.UtteranceId).ToList();
        Assert.Equal(["agent.speak", "agent.speak", "agent.speak", "agent.speak_end"], messages.Select(m => m.Type));
        Assert.Equal([28_800, 48_000, 17_280], messages.Where(m => m.Type == "agent.speak").Select(m => m.AudioBytes));
        Assert.False(end.Interrupted);
        Assert.Equal(LiveAvatarMode.Lite, ((ILiveAvatarSession)session).Mode);
    }

    [Fact]
    public async Task Interrupt_mid_sentence_stops_sending_and_clears_the_avatar_within_one_chunk()
    {
        await using var h = await StartAsync(o => o.LiteLeadTime = TimeSpan.FromMilliseconds(200));
        h.TextToSpeech.PerCharacter = TimeSpan.FromMilliseconds(100);
        await using var session = await h.Service.StartSessionAsync(cancellationToken: Ct);
        var started = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingStarted += h);
        var ended = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingEnded += h);

        // 80 characters: 8 s of audio, sent at most 200 ms ahead of playback.
        await session.SpeakAsync("A long answer that goes on and on, and it would take about eight seconds to say.", Ct);
        var start = await started;
        await session.InterruptAsync(Ct);
        var end = await ended;

        Assert.True(end.Interrupted);
        var messages = h.Emulator.LiteMessages.ToList();
        var interrupt = messages.FindIndex(m => m.Type == "agent.interrupt");
        Assert.True(interrupt > 0);
        await Task.Delay(300, Ct);
        Assert.DoesNotContain(h.Emulator.LiteMessages.Skip(interrupt), m => m.Type == "agent.speak");
        // 8 s of audio is 9 messages (600 ms, then 1 s each); backpressure kept most of them unsent.
        Assert.True(messages.Count(m => m.Type == "agent.speak") < 9, "All the audio was sent before it was played.");
        Assert.False(h.Emulator.GetAvatar(session.SessionId)!.IsSpeaking);
        Assert.Equal(start.UtteranceId, end.UtteranceId);
    }

    [Fact]
    public async Task Streamed_text_starts_audio_before_the_last_sentence_arrives()
    {
        await using var h = await StartAsync();
        await using var session = await h.Service.StartSessionAsync(cancellationToken: Ct);
        var started = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingStarted += h);
        var ended = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingEnded += h);
        var release = new TaskCompletionSource();

        var speaking = session.SpeakAsync(Tokens(release.Task, Ct), Ct);
        await started;
        Assert.False(speaking.IsCompleted);
        Assert.Single(h.TextToSpeech.Calls);
        release.SetResult();
        await speaking;
        var end = await ended;

        Assert.Equal(["Hello there.", "See you."], h.TextToSpeech.Calls.Select(c => c.Text));
        Assert.Equal("Hello there. See you.", end.Text);
        Assert.Single(h.Emulator.LiteMessages, m => m.Type == "agent.speak_end");

        static async IAsyncEnumerable<string> Tokens(Task last, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            yield return "Hello ";
            yield return "there. ";
            yield return "See";
            await last.WaitAsync(cancellationToken);
            yield return " you.";
        }
    }

    [Fact]
    public async Task A_dropped_socket_mid_speech_is_reported_and_the_next_speak_reconnects()
    {
        // A short lead: the second chunk waits for playback, so the avatar is speaking when the socket drops.
        await using var h = await StartAsync(o => o.LiteLeadTime = TimeSpan.FromMilliseconds(300));
        h.TextToSpeech.PerCharacter = TimeSpan.FromMilliseconds(100);
        await using var session = await h.Service.StartSessionAsync(cancellationToken: Ct);
        h.Emulator.DropLiteSocketAfterSpeakMessages = 1;
        var ended = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingEnded += h);

        await session.SpeakAsync("A sentence long enough to need a few chunks of audio.", Ct);

        Assert.True((await ended).Interrupted);
        h.Emulator.DropLiteSocketAfterSpeakMessages = null;
        var again = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingEnded += h);
        await session.SpeakAsync("Back.", Ct);
        var end = await again;
        Assert.False(end.Interrupted);
        Assert.Equal("Back.", end.Text);
        Assert.Equal(1, h.Emulator.OpenSessionCount);
    }

    [Fact]
    public async Task A_speak_after_the_socket_cannot_reconnect_fails_clearly()
    {
        await using var h = await StartAsync();
        await using var session = await h.Service.StartSessionAsync(cancellationToken: Ct);
        h.Emulator.DropLiteSocketAfterSpeakMessages = 0;
        await session.SpeakAsync("Lost.", Ct);
        await Waits.UntilAsync(() => h.Emulator.LiteMessages.Any(m => m.Type == "agent.speak"), "the emulator got audio");
        h.Emulator.Faults.Fail($"/v1/ws/lite/{session.SessionId}", 503, times: 1);
        await Waits.UntilAsync(() => ((LiveAvatarLiteSession)session).SocketLost, "the drop was noticed");

        var error = await Assert.ThrowsAsync<AvatarApiException>(() => session.SpeakAsync("Hello?", Ct));

        Assert.Contains("could not be reconnected", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_and_unknown_server_events_are_ignored()
    {
        await using var h = await StartAsync();
        await using var session = await h.Service.StartSessionAsync(cancellationToken: Ct);

        await h.Emulator.SendRawLiteAsync(session.SessionId, "{ not json", Ct);
        await h.Emulator.SendRawLiteAsync(session.SessionId, """{"type":"agent.hologram_started","event_id":"x"}""", Ct);
        await h.Emulator.SendRawLiteAsync(session.SessionId, """{"type":"error","error":"a string, not an object"}""", Ct);
        await h.Emulator.SendRawLiteAsync(session.SessionId, """[1,2,3]""", Ct);
        var ended = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingEnded += h);
        await session.SpeakAsync("Still fine.", Ct);

        Assert.Equal("Still fine.", (await ended).Text);
    }

    [Fact]
    public async Task Lite_without_a_text_to_speech_client_fails_before_creating_anything()
    {
        await using var h = await StartAsync();
        var services = new ServiceCollection();
        services.AddAvatarKit().AddLiveAvatar(o =>
        {
            o.Mode = LiveAvatarMode.Lite;
            o.ApiKey = h.Emulator.ApiKey;
            o.BaseUrl = h.Emulator.BaseUrl;
            o.AvatarId = LiveAvatarEmulatorOptions.PublicAvatarId;
        });
        await using var provider = services.BuildServiceProvider();
        var service = provider.GetRequiredService<IAvatarService>();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => service.StartSessionAsync(cancellationToken: Ct));

        Assert.Contains("ITextToSpeechClient", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(h.Emulator.Requests, r => r.Path == "/v1/sessions/token");
    }
}
