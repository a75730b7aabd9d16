using Microsoft.Extensions.AI;

namespace AvatarKit.Testing.Tests.Doubles;

public sealed class TestDoublesTests
{
    [Fact]
    public async Task A_test_session_speaks_each_sentence_of_a_stream_at_once_by_default()
    {
        var session = new TestAvatarSession();
        var events = new List<string>();
        session.SpeakingStarted += (_, e) => events.Add("+" + e.Text);
        session.SpeakingEnded += (_, e) => events.Add("-" + e.Text);

        await session.SpeakAsync(Chunks("Hello ", "there. How ", "are you?"), TestContext.Current.CancellationToken);

        Assert.Equal(["Hello there.", "How are you?"], session.SpokenTexts);
        Assert.Equal(["+Hello there.", "-Hello there.", "+How are you?", "-How are you?"], events);
        Assert.Equal(AvatarSessionState.Listening, session.State);
    }

    [Fact]
    public async Task A_refused_text_is_not_recorded_and_the_refusal_reaches_the_caller()
    {
        var session = new TestAvatarSession { SpeakAsyncCallback = (_, _) => throw new AvatarApiException("Session is closed.") };

        await Assert.ThrowsAsync<AvatarApiException>(() => session.SpeakAsync("Hi.", TestContext.Current.CancellationToken));

        Assert.Empty(session.SpokenTexts);
    }

    [Fact]
    public async Task An_interrupt_ends_the_utterance_in_progress_as_interrupted()
    {
        var session = new TestAvatarSession { SpeakAsyncCallback = (text, _) => Task.CompletedTask };
        session.RaiseSpeakingStarted("A long answer.");
        AvatarSpeechEventArgs? ended = null;
        session.SpeakingEnded += (_, e) => ended = e;

        await session.InterruptAsync(TestContext.Current.CancellationToken);

        Assert.True(ended?.Interrupted);
        Assert.Equal(1, session.InterruptCount);
        Assert.Equal(AvatarSessionState.Listening, session.State);
    }

    [Fact]
    public async Task A_test_service_lists_and_closes_the_sessions_it_started()
    {
        var service = new TestAvatarService();
        var first = await service.StartSessionAsync(new AvatarSessionOptions { AvatarId = "a" }, TestContext.Current.CancellationToken);
        await service.StartSessionAsync(cancellationToken: TestContext.Current.CancellationToken);

        var active = await service.ListActiveSessionsAsync(TestContext.Current.CancellationToken);
        var closed = await service.CloseAllSessionsAsync(TestContext.Current.CancellationToken);

        Assert.Equal(2, active.Count);
        Assert.Equal(2, closed);
        Assert.Equal(AvatarSessionState.Closed, first.State);
        Assert.Empty(await service.ListActiveSessionsAsync(TestContext.Current.CancellationToken));
        Assert.Equal("a", service.StartRequests[0]?.AvatarId);
        Assert.Null(service.StartRequests[1]);
    }

    [Fact]
    public async Task A_test_chat_client_streams_its_tokens_and_records_each_request()
    {
        using var client = new TestChatClient("One. ", "Two.");

        var streamed = new List<string>();
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "Count.")], cancellationToken: TestContext.Current.CancellationToken))
        {
            streamed.Add(update.Text);
        }

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "Again.")], cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(["One. ", "Two."], streamed);
        Assert.Equal("One. Two.", response.Text);
        Assert.Equal(["Count.", "Again."], client.Requests.Select(r => r.Single().Text));
        Assert.Equal("test", client.GetService<ChatClientMetadata>()?.ProviderName);
    }

    private static async IAsyncEnumerable<string> Chunks(params string[] chunks)
    {
        foreach (var chunk in chunks)
        {
            await Task.Yield();
            yield return chunk;
        }
    }
}
