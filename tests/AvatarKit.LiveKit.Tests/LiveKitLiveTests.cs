using System.Text;

namespace AvatarKit.LiveKit.Tests;

/// <summary>Against a real LiveKit server, when LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET are set.</summary>
[Collection(LiveKitTestGroup.Name)]
public sealed class LiveKitLiveTests
{
    [Fact]
    public async Task Two_participants_join_a_real_LiveKit_room_and_exchange_data()
    {
        var url = Environment.GetEnvironmentVariable("LIVEKIT_URL");
        var key = Environment.GetEnvironmentVariable("LIVEKIT_API_KEY");
        var secret = Environment.GetEnvironmentVariable("LIVEKIT_API_SECRET");
        Assert.SkipWhen(string.IsNullOrEmpty(url) || string.IsNullOrEmpty(key) || string.IsNullOrEmpty(secret), "LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET are not all set.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(45));
        var ct = timeout.Token;
        var room = $"avatarkit-live-{Guid.NewGuid():N}";
        var connector = new LiveKitRoomConnector();

        await using var alice = await connector.ConnectAsync(new Uri(url!), LiveKitAccessToken.Create(key!, secret!, room, "alice"), ct);
        await using var bob = await connector.ConnectAsync(new Uri(url!), LiveKitAccessToken.Create(key!, secret!, room, "bob"), ct);
        var received = bob.ReadDataAsync("greeting", ct).GetAsyncEnumerator(ct);
        var next = received.MoveNextAsync().AsTask();
        await using var mic = await alice.PublishAudioAsync("mic", AudioFormat.Pcm16Mono48kHz, ct);

        await alice.PublishDataAsync(Encoding.UTF8.GetBytes("hi bob"), new RoomDataOptions { Topic = "greeting" }, ct);

        Assert.True(await next);
        Assert.Equal("hi bob", Encoding.UTF8.GetString(received.Current.Payload.Span));
        Assert.Equal("alice", received.Current.SenderIdentity);
        var track = await bob.WaitForTrackAsync("alice", RoomTrackKind.Audio, ct);
        Assert.Equal(mic.Track.Sid, track.Sid);
        await received.DisposeAsync();
    }
}
