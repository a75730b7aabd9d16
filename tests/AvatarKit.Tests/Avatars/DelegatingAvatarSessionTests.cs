using AvatarKit.Testing;

namespace AvatarKit.Tests.Avatars;

public sealed class DelegatingAvatarSessionTests
{
    [Fact]
    public async Task Calls_go_to_the_inner_session_and_its_events_come_back_with_the_wrapper_as_sender()
    {
        var inner = new TestAvatarSession { SessionId = "s-1", AvatarIdentity = "avatar-1" };
        await using var session = new PassThroughSession(inner);
        var events = new List<(object? Sender, string Kind)>();
        session.SpeakingStarted += (sender, _) => events.Add((sender, "started"));
        session.SpeakingEnded += (sender, _) => events.Add((sender, "ended"));
        session.StateChanged += (sender, e) => events.Add((sender, e.Current.ToString()));

        await session.SpeakAsync("Hello there.", TestContext.Current.CancellationToken);

        Assert.Equal(["Hello there."], inner.SpokenTexts);
        Assert.Equal("s-1", session.SessionId);
        Assert.Equal("avatar-1", session.AvatarIdentity);
        Assert.Equal(["Speaking", "started", "Listening", "ended"], events.Select(e => e.Kind));
        Assert.All(events, e => Assert.Same(session, e.Sender));
    }

    [Fact]
    public async Task Disposing_stops_the_inner_session_and_forwards_its_closed_state()
    {
        var inner = new TestAvatarSession();
        var session = new PassThroughSession(inner);
        var closed = false;
        session.StateChanged += (_, e) => closed |= e.Current == AvatarSessionState.Closed;

        await session.DisposeAsync();

        Assert.Equal(1, inner.DisposeCount);
        Assert.True(closed);
        Assert.Equal(AvatarSessionState.Closed, session.State);
    }

    [Fact]
    public async Task Events_of_the_inner_session_after_disposal_do_not_reach_the_wrapper()
    {
        var inner = new TestAvatarSession();
        var session = new PassThroughSession(inner);
        var started = 0;
        session.SpeakingStarted += (_, _) => started++;

        await session.DisposeAsync();
        inner.RaiseSpeakingStarted("late");

        Assert.Equal(0, started);
    }

    [Fact]
    public void Options_clone_copies_the_additional_properties_into_a_new_dictionary()
    {
        var options = new AvatarSessionOptions { AvatarId = "a", Quality = AvatarQuality.Low, AdditionalProperties = new Dictionary<string, object?> { ["x"] = 1 } };

        var copy = options.Clone();
        copy.AdditionalProperties!["y"] = 2;

        Assert.Equal("a", copy.AvatarId);
        Assert.Equal(AvatarQuality.Low, copy.Quality);
        Assert.False(options.AdditionalProperties.ContainsKey("y"));
        Assert.Equal(1, copy.AdditionalProperties["x"]);
    }

    private sealed class PassThroughSession(IAvatarSession inner) : DelegatingAvatarSession(inner);
}
