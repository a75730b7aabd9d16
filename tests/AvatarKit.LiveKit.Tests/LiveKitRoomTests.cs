using System.Net;
using System.Net.Sockets;
using System.Text;
using AvatarKit.LiveKit.Native;
using AvatarKit.Testing;

namespace AvatarKit.LiveKit.Tests;

/// <summary>The real native library over real WebRTC (loopback) against the fake LiveKit server.</summary>
[Collection(LiveKitTestGroup.Name)]
public sealed class LiveKitRoomTests(LiveKitServerFixture fixture)
{
    [Fact]
    public async Task Video_of_the_avatar_arrives_as_I420_frames_with_the_published_bar_colours()
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard();
        await using var room = await fixture.JoinAvatarRoomAsync("viewer-video", ct);
        var track = await room.WaitForTrackAsync(LiveKitServerFixture.AvatarIdentity, RoomTrackKind.Video, ct);

        var frames = 0;
        var lastTimestamp = TimeSpan.MinValue;
        await foreach (var frame in room.ReadVideoAsync(track, VideoPixelFormat.I420, ct))
        {
            using (frame)
            {
                Assert.Equal((320, 240), (frame.Width, frame.Height));
                Assert.True(frame.Timestamp >= lastTimestamp, "timestamps do not go back");
                lastTimestamp = frame.Timestamp;
                for (var bar = 0; bar < 4; bar++)
                {
                    var expected = LiveKitTestMedia.Bars[bar];
                    var x = (2 * bar + 1) * frame.Width / 8;
                    var y = frame.Height / 2;
                    Assert.InRange(frame.PlaneY[y * frame.Width + x], expected.Y - 12, expected.Y + 12);
                    Assert.InRange(frame.PlaneU[y / 2 * frame.ChromaWidth + x / 2], expected.U - 12, expected.U + 12);
                    Assert.InRange(frame.PlaneV[y / 2 * frame.ChromaWidth + x / 2], expected.V - 12, expected.V + 12);
                }
            }

            if (++frames == 100)
            {
                break;
            }
        }

        Assert.Equal(100, frames);
    }

    [Fact]
    public async Task Video_converted_natively_to_RGBA_matches_the_bar_colours()
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard();
        await using var room = await fixture.JoinAvatarRoomAsync("viewer-rgba", ct);
        var track = await room.WaitForTrackAsync(LiveKitServerFixture.AvatarIdentity, RoomTrackKind.Video, ct);
        using var reference = LiveKitTestMedia.CreateBarsFrame(320, 240, TimeSpan.Zero);
        using var expected = reference.ConvertTo(VideoPixelFormat.Rgba);

        var frames = 0;
        await foreach (var frame in room.ReadVideoAsync(track, VideoPixelFormat.Rgba, ct))
        {
            using (frame)
            {
                Assert.Equal(VideoPixelFormat.Rgba, frame.PixelFormat);
                Assert.Equal(320 * 240 * 4, frame.Length);
                for (var bar = 0; bar < 4; bar++)
                {
                    var offset = ((frame.Height / 2 * frame.Width) + (2 * bar + 1) * frame.Width / 8) * 4;
                    for (var channel = 0; channel < 3; channel++)
                    {
                        Assert.InRange(frame.Span[offset + channel], expected.Span[offset + channel] - 24, expected.Span[offset + channel] + 24);
                    }

                    Assert.Equal(255, frame.Span[offset + 3]);
                }
            }

            if (++frames == 20)
            {
                break;
            }
        }
    }

    [Theory]
    [InlineData(48_000, 1)]
    [InlineData(16_000, 1)]
    [InlineData(24_000, 2)]
    public async Task Audio_of_the_avatar_arrives_at_the_requested_format_with_the_published_tone(int sampleRate, int channels)
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard();
        await using var room = await fixture.JoinAvatarRoomAsync($"viewer-audio-{sampleRate}-{channels}", ct);
        var track = await room.WaitForTrackAsync(LiveKitServerFixture.AvatarIdentity, RoomTrackKind.Audio, ct);
        var format = new AudioFormat(sampleRate, channels);

        var mono = new List<short>();
        var skipped = 0;
        await foreach (var frame in room.ReadAudioAsync(track, format, ct))
        {
            using (frame)
            {
                Assert.Equal(format, frame.Format);
                if (++skipped <= 50)
                {
                    continue; // the first half second includes the decoder's ramp-up
                }

                for (var i = 0; i < frame.SampleCount; i++)
                {
                    mono.Add(frame.Samples[i * channels]);
                }
            }

            if (mono.Count >= sampleRate)
            {
                break;
            }
        }

        var frequency = LiveKitTestMedia.EstimateFrequency(mono.ToArray(), sampleRate);
        Assert.InRange(frequency, LiveKitTestMedia.ToneFrequency - 5, LiveKitTestMedia.ToneFrequency + 5);
        Assert.InRange(mono.Max(s => Math.Abs((int)s)), LiveKitTestMedia.ToneAmplitude / 2, LiveKitTestMedia.ToneAmplitude * 2);
    }

    [Fact]
    public async Task Data_goes_both_ways_with_topics_and_destinations()
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard();
        await using var room = await fixture.JoinAvatarRoomAsync("viewer-data", ct);
        var replies = room.ReadDataAsync("agent-control", ct).GetAsyncEnumerator(ct);
        var next = replies.MoveNextAsync().AsTask();

        await room.PublishDataAsync(Encoding.UTF8.GetBytes("speak hello"), new RoomDataOptions { Topic = "agent-control", DestinationIdentities = [LiveKitServerFixture.AvatarIdentity] }, ct);

        Assert.True(await next);
        Assert.Equal("echo:speak hello", Encoding.UTF8.GetString(replies.Current.Payload.Span));
        Assert.Equal("agent-control", replies.Current.Topic);
        Assert.Equal(LiveKitServerFixture.AvatarIdentity, replies.Current.SenderIdentity);
        await replies.DisposeAsync();

        var state = await fixture.Server.GetRoomAsync(LiveKitServerFixture.AvatarRoom, ct);
        var sent = Assert.Single(state.Data, d => d.From == "viewer-data");
        Assert.Equal("agent-control", sent.Topic);
        Assert.Equal("speak hello", Encoding.UTF8.GetString(Convert.FromBase64String(sent.Payload)));
        Assert.Equal([LiveKitServerFixture.AvatarIdentity], sent.Destinations);
    }

    [Fact]
    public async Task Lossy_data_without_a_topic_arrives_too()
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard();
        await using var room = await fixture.JoinAvatarRoomAsync("viewer-lossy", ct);
        var replies = room.ReadDataAsync(cancellationToken: ct).GetAsyncEnumerator(ct);
        var next = replies.MoveNextAsync().AsTask();

        await room.PublishDataAsync("ping"u8.ToArray(), new RoomDataOptions { Reliable = false }, ct);

        Assert.True(await next);
        Assert.Equal("echo:ping", Encoding.UTF8.GetString(replies.Current.Payload.Span));
        Assert.Null(replies.Current.Topic);
        await replies.DisposeAsync();
    }

    [Fact]
    public async Task Participants_joining_and_leaving_raise_events_and_update_the_list()
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard();
        await using var room = await fixture.JoinAvatarRoomAsync("viewer-watch", ct);
        var avatar = Assert.Single(room.RemoteParticipants, p => p.Identity == LiveKitServerFixture.AvatarIdentity);
        Assert.Equal([RoomTrackKind.Audio, RoomTrackKind.Video], avatar.Tracks.Select(t => t.Kind).Order());

        var joined = new TaskCompletionSource<RoomParticipant>(TaskCreationOptions.RunContinuationsAsynchronously);
        var left = new TaskCompletionSource<RoomParticipant>(TaskCreationOptions.RunContinuationsAsynchronously);
        // Only the guest's events: an earlier test's participant may still be leaving the room.
        room.ParticipantJoined += (_, e) =>
        {
            if (e.Participant.Identity == "viewer-guest")
            {
                joined.TrySetResult(e.Participant);
            }
        };
        room.ParticipantLeft += (_, e) =>
        {
            if (e.Participant.Identity == "viewer-guest")
            {
                left.TrySetResult(e.Participant);
            }
        };

        var other = await fixture.JoinAvatarRoomAsync("viewer-guest", ct);
        Assert.Equal("viewer-guest", (await joined.Task.WaitAsync(ct)).Identity);
        Assert.Contains(room.RemoteParticipants, p => p.Identity == "viewer-guest");

        await other.DisposeAsync();
        Assert.Equal("viewer-guest", (await left.Task.WaitAsync(ct)).Identity);
        Assert.DoesNotContain(room.RemoteParticipants, p => p.Identity == "viewer-guest");
    }

    [Fact]
    public async Task A_published_audio_track_reaches_the_server_and_the_other_participants()
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard();
        await using var listener = await fixture.JoinAvatarRoomAsync("viewer-listener", ct);
        await using var speaker = await fixture.JoinAvatarRoomAsync("viewer-speaker", ct);
        await using var track = await speaker.PublishAudioAsync("mic", AudioFormat.Pcm16Mono48kHz, ct);
        Assert.Equal(RoomTrackKind.Audio, track.Track.Kind);
        Assert.StartsWith("TR_", track.Track.Sid, StringComparison.Ordinal);

        var remote = await listener.WaitForTrackAsync("viewer-speaker", RoomTrackKind.Audio, ct);
        Assert.Equal(track.Track.Sid, remote.Sid);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var pump = Task.Run(
            async () =>
            {
                for (var sent = 0L; !stop.IsCancellationRequested; sent += 480)
                {
                    using var frame = LiveKitTestMedia.CreateToneFrame(track.Format, sent, 480);
                    await track.WriteAsync(frame, stop.Token);
                }
            },
            ct);

        var samples = new List<short>();
        await foreach (var frame in listener.ReadAudioAsync(remote, AudioFormat.Pcm16Mono48kHz, ct))
        {
            using (frame)
            {
                // The receiver plays silence until the first packets arrive: keep what follows the tone's start.
                if (samples.Count > 0 || frame.Samples.IndexOfAnyExceptInRange((short)-1000, (short)1000) >= 0)
                {
                    samples.AddRange(frame.Samples.ToArray());
                }
            }

            if (samples.Count >= 48_000)
            {
                break;
            }
        }

        var frequency = LiveKitTestMedia.EstimateFrequency(samples.Skip(9_600).ToArray(), 48_000);
        Assert.InRange(frequency, LiveKitTestMedia.ToneFrequency - 5, LiveKitTestMedia.ToneFrequency + 5);
        var state = await fixture.Server.GetRoomAsync(LiveKitServerFixture.AvatarRoom, ct);
        Assert.True(state.Participants.Single(p => p.Identity == "viewer-speaker").Tracks.Single().Packets > 0);
        // Writing into the track does not end with the room (the native source takes frames regardless): stop it.
        await stop.CancelAsync();
        await pump.ContinueWith(_ => { }, TaskScheduler.Default);
        await speaker.DisconnectAsync(ct);
    }

    [Fact]
    public async Task A_slow_reader_loses_the_oldest_frames_and_they_are_counted()
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard();
        await using var room = await fixture.JoinAvatarRoomAsync("viewer-slow", ct);
        var track = await room.WaitForTrackAsync(LiveKitServerFixture.AvatarIdentity, RoomTrackKind.Video, ct);

        var frames = 0;
        await foreach (var frame in room.ReadVideoAsync(track, VideoPixelFormat.I420, ct))
        {
            frame.Dispose();
            if (++frames == 1)
            {
                // Frames keep arriving while this reader waits; the queue holds 4, so older ones get dropped.
                await WaitForAsync(() => room.DroppedVideoFrames > 0, ct);
            }
            else if (frames == 6)
            {
                break;
            }
        }

        Assert.True(room.DroppedVideoFrames > 0, $"dropped {room.DroppedVideoFrames}");
    }

    [Fact]
    public async Task A_server_initiated_disconnect_ends_the_room_and_its_streams()
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard();
        await using var room = await fixture.JoinAvatarRoomAsync("viewer-kicked", ct);
        var track = await room.WaitForTrackAsync(LiveKitServerFixture.AvatarIdentity, RoomTrackKind.Video, ct);
        var disconnected = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        room.ConnectionStateChanged += (_, e) =>
        {
            if (e.State == RoomConnectionState.Disconnected)
            {
                disconnected.TrySetResult(e.Reason);
            }
        };
        var frames = 0;
        var reading = Task.Run(
            async () =>
            {
                await foreach (var frame in room.ReadVideoAsync(track, VideoPixelFormat.I420, ct))
                {
                    frame.Dispose();
                    Interlocked.Increment(ref frames);
                }
            },
            ct);
        await WaitForAsync(() => Volatile.Read(ref frames) >= 5, ct);

        await fixture.Server.RemoveParticipantAsync(LiveKitServerFixture.AvatarRoom, "viewer-kicked", ct);

        Assert.Contains("Removed", await disconnected.Task.WaitAsync(ct), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(RoomConnectionState.Disconnected, room.State);
        await reading.WaitAsync(ct); // the frame stream ended by itself
        await Assert.ThrowsAsync<InvalidOperationException>(() => room.PublishDataAsync("late"u8.ToArray(), cancellationToken: ct));
    }

    [Fact]
    public async Task A_token_signed_with_another_secret_is_refused_with_the_servers_reason()
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard();
        var token = LiveKitAccessToken.Create(fixture.Server.ApiKey, "not-the-secret", LiveKitServerFixture.AvatarRoom, "intruder");

        var error = await Assert.ThrowsAsync<RoomConnectionException>(() => fixture.Connector.ConnectAsync(fixture.Server.Url, token, ct));

        Assert.Contains("invalid token signature", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(token, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_URL_where_no_server_listens_fails_with_a_clear_error_before_the_timeout()
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard();
        var connector = new LiveKitRoomConnector(Microsoft.Extensions.Options.Options.Create(new LiveKitOptions { ConnectTimeout = TimeSpan.FromSeconds(8), JoinRetries = 0 }));
        // A socket bound but not listening keeps the port for this test (no other server or outgoing
        // connection can be given it) while a connection to it is refused, as where no server listens.
        using var reserved = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        reserved.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)reserved.LocalEndPoint!).Port;

        var error = await Assert.ThrowsAsync<RoomConnectionException>(() => connector.ConnectAsync(new Uri($"ws://127.0.0.1:{port}"), fixture.Server.CreateToken("any", "nobody"), ct));

        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Disposing_a_room_while_frames_flow_releases_every_native_handle()
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard();
        await LiveKitServerFixture.WaitUntilNativeHandlesAreStableAsync(fixture, ct);
        var baseline = FfiHandle.LiveCount;
        var room = await fixture.JoinAvatarRoomAsync("viewer-dispose", ct);
        var video = await room.WaitForTrackAsync(LiveKitServerFixture.AvatarIdentity, RoomTrackKind.Video, ct);
        var audio = await room.WaitForTrackAsync(LiveKitServerFixture.AvatarIdentity, RoomTrackKind.Audio, ct);
        var frames = 0;
        var readers = new[]
        {
            Task.Run(async () => { await foreach (var f in room.ReadVideoAsync(video, VideoPixelFormat.Rgba, ct)) { f.Dispose(); Interlocked.Increment(ref frames); } }, ct),
            Task.Run(async () => { await foreach (var f in room.ReadAudioAsync(audio, AudioFormat.Pcm16Mono16kHz, ct)) { f.Dispose(); } }, ct),
        };
        await WaitForAsync(() => Volatile.Read(ref frames) >= 10, ct);
        Assert.True(FfiHandle.LiveCount > baseline);

        await room.DisposeAsync();

        await Task.WhenAll(readers).WaitAsync(ct);
        Assert.Equal(RoomConnectionState.Disconnected, room.State);

        // The viewer published nothing, so the avatar holds no handle for it: back to the baseline once
        // the avatar has seen it leave (a handle dropped late, or never, fails here with the count).
        using var settle = CancellationTokenSource.CreateLinkedTokenSource(ct);
        settle.CancelAfter(TimeSpan.FromSeconds(30));
        await LiveKitServerFixture.WaitUntilNativeHandlesAreStableAsync(fixture, settle.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        await WaitForAsync(() => FfiHandle.LiveCount == baseline, settle.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        Assert.Equal(baseline, FfiHandle.LiveCount);
    }

    private static async Task WaitForAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            await Task.Delay(50, cancellationToken);
        }
    }
}
