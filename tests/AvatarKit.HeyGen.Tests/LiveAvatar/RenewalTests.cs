using System.Collections.Concurrent;

namespace AvatarKit.HeyGen.Tests;

/// <summary>Sessions that outlive their limits are renewed: the cut sentence is said again on the replacement, nothing leaks.</summary>
public sealed class RenewalTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(LiveAvatarMode.Full, 3)]
    [InlineData(LiveAvatarMode.Full, 1)]
    [InlineData(LiveAvatarMode.Lite, 3)]
    public async Task A_sandbox_session_is_renewed_before_its_limit_and_the_cut_sentence_is_spoken_again(LiveAvatarMode mode, int accountLimit)
    {
        Testing.LiveAvatar.LiveAvatarEmulatorOptions? limits = null;
        await using var h = await LiveAvatarHarness.StartAsync(
            o =>
            {
                o.Mode = mode;
                o.IsSandbox = true;
                o.AvatarId = LiveAvatarOptions.SandboxAvatarId;
                o.RenewBeforeEnd = TimeSpan.FromSeconds(1);
                o.LiteLeadTime = TimeSpan.FromMilliseconds(300);
            },
            e =>
            {
                e.SandboxSessionDuration = TimeSpan.FromSeconds(3);
                e.MaxConcurrentSessions = accountLimit;
                limits = e;
            });
        var session = (ILiveAvatarSession)await h.Service.StartSessionAsync(cancellationToken: Ct);
        var first = session.SessionId;

        // Only the first session is short, so the sentence said again on the replacement is not cut too.
        limits!.SandboxSessionDuration = TimeSpan.FromMinutes(1);
        var ended = new ConcurrentQueue<AvatarSpeechEventArgs>();
        session.SpeakingEnded += (_, e) => ended.Enqueue(e);
        var renewed = Waits.Next<AvatarSessionRenewedEventArgs>(h => session.Renewed += h);

        // Renewal is due 2 s in; this sentence lasts about 4 s and is cut.
        const string sentence = "This sentence is long enough to be cut short by the renewal.";
        await session.SpeakAsync(sentence, Ct);

        var renewal = await renewed;
        Assert.Equal(first, renewal.PreviousSessionId);
        Assert.Equal("MAX_DURATION_APPROACHING", renewal.Reason);
        Assert.Equal(renewal.SessionId, session.SessionId);
        await Waits.UntilAsync(() => ended.Any(e => !e.Interrupted), "the sentence was said to its end");
        Assert.Contains(ended, e => e.Interrupted);
        Assert.Equal(sentence, ended.Single(e => !e.Interrupted).Text);
        Assert.Equal([session.SessionId], h.Emulator.OpenSessionIds);
        Assert.Equal(session.Room!.Name, session.SessionId);

        await session.DisposeAsync();
        Assert.Equal(0, h.Emulator.OpenSessionCount);
        Assert.Empty(h.Rooms.RoomNames);
    }

    [Fact]
    public async Task An_unexpected_end_mid_answer_is_renewed_and_the_answer_repeated()
    {
        await using var h = await LiveAvatarHarness.StartAsync();
        await using var session = (ILiveAvatarSession)await h.Service.StartSessionAsync(cancellationToken: Ct);
        var started = Waits.Next<AvatarSpeechEventArgs>(h => session.SpeakingStarted += h);
        var renewed = Waits.Next<AvatarSessionRenewedEventArgs>(h => session.Renewed += h);
        var ended = new ConcurrentQueue<AvatarSpeechEventArgs>();
        session.SpeakingEnded += (_, e) => ended.Enqueue(e);
        await session.SpeakAsync("An answer that the server cuts short.", Ct);
        await started;

        await h.Emulator.EndSessionAsync(session.SessionId, "MAX_DURATION_REACHED");

        Assert.Equal("MAX_DURATION_REACHED", (await renewed).Reason);
        await Waits.UntilAsync(() => ended.Any(e => !e.Interrupted), "the answer was said again");
        Assert.Equal("An answer that the server cuts short.", ended.Single(e => !e.Interrupted).Text);
        Assert.Equal(AvatarSessionState.Listening, session.State);
        Assert.Equal(1, h.Emulator.OpenSessionCount);
    }

    [Fact]
    public async Task Without_renewal_the_session_closes_at_its_limit()
    {
        await using var h = await LiveAvatarHarness.StartAsync(
            o =>
            {
                o.AutoRenew = false;
                o.IsSandbox = true;
                o.AvatarId = LiveAvatarOptions.SandboxAvatarId;
            },
            e => e.SandboxSessionDuration = TimeSpan.FromSeconds(1));
        await using var session = await h.Service.StartSessionAsync(cancellationToken: Ct);

        await Waits.UntilAsync(() => session.State == AvatarSessionState.Closed, "the session closed");

        Assert.Equal(0, h.Emulator.OpenSessionCount);
    }
}
