using System.Text;

namespace AvatarKit.Tests.Rooms;

public sealed class InProcessRoomTests
{
    // Only guards against a hang: the tests assert what arrives, never how fast.
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_published_video_track_is_received_frame_by_frame_in_order()
    {
        var server = new InProcessRoomServer();
        await using var avatar = await server.JoinAsync("room", "avatar", Ct);
        await using var viewer = await server.ConnectAsync(InProcessRoomServer.GetRoomUrl("room"), "viewer", Ct);
        var trackTask = viewer.WaitForTrackAsync("avatar", RoomTrackKind.Video, Ct);
        await using var video = await avatar.PublishVideoAsync("camera", 32, 16, Ct);
        var track = await trackTask;

        var reader = Task.Run(async () =>
        {
            var received = new List<(TimeSpan Timestamp, byte Marker)>();
            await foreach (var frame in viewer.ReadVideoAsync(track, VideoPixelFormat.I420, Ct))
            {
                using (frame)
                {
                    received.Add((frame.Timestamp, frame.PlaneY[0]));
                    if (received.Count == 20)
                    {
                        break;
                    }
                }
            }

            return received;
        }, Ct);

        await WaitUntilSubscribed(avatar, viewer, track);
        for (var i = 0; i < 20; i++)
        {
            using var frame = VideoFrame.Rent(32, 16, VideoPixelFormat.I420, TimeSpan.FromMilliseconds(40 * i));
            frame.Span.Fill((byte)(i + 10));
            await video.WriteAsync(frame, Ct);
        }

        var frames = await reader.WaitAsync(HangGuard, Ct);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (TimeSpan.FromMilliseconds(40 * i), (byte)(i + 10))), frames);
    }

    [Fact]
    public async Task Data_published_on_a_topic_reaches_the_other_side_only()
    {
        var server = new InProcessRoomServer();
        await using var alice = await server.JoinAsync("room", "alice", Ct);
        await using var bob = await server.JoinAsync("room", "bob", Ct);
        var aliceGot = new List<RoomDataPacket>();
        var bobGot = new List<RoomDataPacket>();
        alice.DataReceived += (_, e) => aliceGot.Add(e.Packet);
        bob.DataReceived += (_, e) => bobGot.Add(e.Packet);

        await alice.PublishDataAsync("hello"u8.ToArray(), new RoomDataOptions { Topic = "agent-control" }, Ct);

        Assert.Empty(aliceGot);
        var packet = Assert.Single(bobGot);
        Assert.Equal("agent-control", packet.Topic);
        Assert.Equal("alice", packet.SenderIdentity);
        Assert.Equal("hello", Encoding.UTF8.GetString(packet.Payload.Span));
    }

    [Fact]
    public async Task Reading_data_by_topic_filters_other_topics()
    {
        var server = new InProcessRoomServer();
        await using var alice = await server.JoinAsync("room", "alice", Ct);
        await using var bob = await server.JoinAsync("room", "bob", Ct);
        // The reader subscribes when its enumeration starts: start it here, before anything is published.
        await using var packets = bob.ReadDataAsync("wanted", Ct).GetAsyncEnumerator(Ct);
        var next = packets.MoveNextAsync();

        await alice.PublishDataAsync("no"u8.ToArray(), new RoomDataOptions { Topic = "other" }, Ct);
        await alice.PublishDataAsync("yes"u8.ToArray(), new RoomDataOptions { Topic = "wanted" }, Ct);

        Assert.True(await next.AsTask().WaitAsync(HangGuard, Ct));
        Assert.Equal("yes", Encoding.UTF8.GetString(packets.Current.Payload.Span));
    }

    [Fact]
    public async Task Data_with_destinations_reaches_only_those_participants()
    {
        var server = new InProcessRoomServer();
        await using var alice = await server.JoinAsync("room", "alice", Ct);
        await using var bob = await server.JoinAsync("room", "bob", Ct);
        await using var carol = await server.JoinAsync("room", "carol", Ct);
        var bobCount = 0;
        var carolCount = 0;
        bob.DataReceived += (_, _) => bobCount++;
        carol.DataReceived += (_, _) => carolCount++;

        await alice.PublishDataAsync("x"u8.ToArray(), new RoomDataOptions { DestinationIdentities = ["carol"] }, Ct);

        Assert.Equal(0, bobCount);
        Assert.Equal(1, carolCount);
    }

    [Fact]
    public async Task Participants_see_each_other_join_and_leave_with_their_tracks()
    {
        var server = new InProcessRoomServer();
        await using var alice = await server.JoinAsync("room", "alice", Ct);
        var events = new List<string>();
        alice.ParticipantJoined += (_, e) => events.Add($"joined {e.Participant.Identity}");
        alice.TrackSubscribed += (_, e) => events.Add($"track {e.Track.Name} {e.Track.Kind}");
        alice.TrackUnsubscribed += (_, e) => events.Add($"untrack {e.Track.Name}");
        alice.ParticipantLeft += (_, e) => events.Add($"left {e.Participant.Identity}");

        var bob = await server.JoinAsync("room", "bob", Ct);
        await bob.PublishAudioAsync("mic", AudioFormat.Pcm16Mono48kHz, Ct);
        Assert.Equal("mic", Assert.Single(Assert.Single(alice.RemoteParticipants).Tracks).Name);
        await bob.DisposeAsync();

        Assert.Equal(["joined bob", "track mic Audio", "untrack mic", "left bob"], events);
        Assert.Empty(alice.RemoteParticipants);
    }

    [Fact]
    public async Task Audio_is_delivered_in_the_format_the_reader_asks_for()
    {
        var server = new InProcessRoomServer();
        await using var speaker = await server.JoinAsync("room", "speaker", Ct);
        await using var listener = await server.JoinAsync("room", "listener", Ct);
        await using var mic = await speaker.PublishAudioAsync("mic", AudioFormat.Pcm16Mono48kHz, Ct);
        var track = await listener.WaitForTrackAsync("speaker", RoomTrackKind.Audio, Ct);
        var reader = Task.Run(async () =>
        {
            await foreach (var frame in listener.ReadAudioAsync(track, AudioFormat.Pcm16Mono16kHz, Ct))
            {
                using (frame)
                {
                    return (frame.Format, frame.SampleCount, frame.Timestamp);
                }
            }

            throw new InvalidOperationException("no audio");
        }, Ct);
        await WaitUntilSubscribed(speaker, listener, track);

        using var tenMs = AudioFrame.Rent(AudioFormat.Pcm16Mono48kHz, 960, TimeSpan.FromMilliseconds(30));
        await mic.WriteAsync(tenMs, Ct);

        Assert.Equal((AudioFormat.Pcm16Mono16kHz, 160, TimeSpan.FromMilliseconds(30)), await reader.WaitAsync(HangGuard, Ct));
    }

    [Fact]
    public async Task A_slow_reader_loses_its_oldest_frames_and_memory_stays_bounded()
    {
        var server = new InProcessRoomServer();
        await using var avatar = await server.JoinAsync("room", "avatar", Ct);
        await using var viewer = await server.JoinAsync("room", "viewer", Ct);
        await using var video = await avatar.PublishVideoAsync("camera", 16, 16, Ct);
        var track = await viewer.WaitForTrackAsync("avatar", RoomTrackKind.Video, Ct);
        await using var frames = viewer.ReadVideoAsync(track, VideoPixelFormat.I420, Ct).GetAsyncEnumerator(Ct);
        var first = frames.MoveNextAsync();
        await WaitUntilSubscribed(avatar, viewer, track);

        for (var i = 0; i < 500; i++)
        {
            using var frame = VideoFrame.Rent(16, 16, VideoPixelFormat.I420, TimeSpan.FromMilliseconds(i));
            await video.WriteAsync(frame, Ct);
        }

        Assert.True(await first);
        frames.Current.Dispose();
        var timestamps = new List<double>();
        for (var i = 0; i < 30 && await frames.MoveNextAsync(); i++)
        {
            timestamps.Add(frames.Current.Timestamp.TotalMilliseconds);
            frames.Current.Dispose();
            if (frames.Current.Timestamp.TotalMilliseconds == 499)
            {
                break;
            }
        }

        Assert.Equal(499, timestamps[^1]);
        Assert.True(timestamps.Count <= 30, $"the queue held {timestamps.Count} frames");
    }

    [Fact]
    public async Task A_server_side_disconnect_ends_the_readers_and_reports_the_reason()
    {
        var server = new InProcessRoomServer();
        await using var avatar = await server.JoinAsync("room", "avatar", Ct);
        await using var viewer = await server.JoinAsync("room", "viewer", Ct);
        await using var video = await avatar.PublishVideoAsync("camera", 16, 16, Ct);
        var track = await viewer.WaitForTrackAsync("avatar", RoomTrackKind.Video, Ct);
        string? reason = null;
        viewer.ConnectionStateChanged += (_, e) => reason = e.Reason;

        // A reader already waiting for a frame when the server disconnects (not one that starts afterwards).
        await using var frames = viewer.ReadVideoAsync(track, VideoPixelFormat.I420, Ct).GetAsyncEnumerator(Ct);
        var next = frames.MoveNextAsync();

        Assert.True(server.DisconnectParticipant("room", "viewer", "room closed"));

        Assert.False(await next.AsTask().WaitAsync(HangGuard, Ct));
        Assert.Equal("room closed", reason);
        Assert.Equal(RoomConnectionState.Disconnected, viewer.State);
        await Assert.ThrowsAsync<InvalidOperationException>(() => viewer.PublishDataAsync("x"u8.ToArray(), cancellationToken: Ct));
    }

    [Fact]
    public async Task Joining_twice_with_one_identity_is_refused()
    {
        var server = new InProcessRoomServer();
        await using var first = await server.JoinAsync("room", "same", Ct);

        var error = await Assert.ThrowsAsync<RoomConnectionException>(() => server.JoinAsync("room", "same", Ct));

        Assert.Contains("same", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_url_of_another_scheme_is_refused_clearly()
    {
        var error = await Assert.ThrowsAsync<RoomConnectionException>(() => new InProcessRoomServer().ConnectAsync(new Uri("wss://example.invalid"), "me", Ct));

        Assert.Contains("inproc://", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Frames_of_the_wrong_size_or_format_are_rejected()
    {
        var server = new InProcessRoomServer();
        await using var avatar = await server.JoinAsync("room", "avatar", Ct);
        await using var video = await avatar.PublishVideoAsync("camera", 16, 16, Ct);
        await using var audio = await avatar.PublishAudioAsync("mic", AudioFormat.Pcm16Mono48kHz, Ct);
        using var wrongSize = VideoFrame.Rent(8, 8, VideoPixelFormat.I420, TimeSpan.Zero);
        using var wrongRate = AudioFrame.Rent(AudioFormat.Pcm16Mono16kHz, 320, TimeSpan.Zero);

        await Assert.ThrowsAsync<ArgumentException>(() => video.WriteAsync(wrongSize, Ct).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => audio.WriteAsync(wrongRate, Ct).AsTask());
    }

    // The reader subscribes when its enumeration starts; wait for that so no frame is written before.
    private static async Task WaitUntilSubscribed(IRealtimeRoom publisher, IRealtimeRoom subscriber, RoomTrack track)
    {
        var connection = (InProcessRoomConnection)publisher;
        var local = connection.FindLocalTrack(track.Sid)!;
        var deadline = DateTime.UtcNow + HangGuard;
        while (!local.HasSubscribers && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5, Ct);
        }

        Assert.True(local.HasSubscribers, $"{subscriber.LocalIdentity} never subscribed");
    }
}
