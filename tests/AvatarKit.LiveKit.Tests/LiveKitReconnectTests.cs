using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using AvatarKit.Testing;

namespace AvatarKit.LiveKit.Tests;

/// <summary>What LiveKit's SDK does when the signal connection or the media path drops, against the fake server's fault hooks.</summary>
[Collection(LiveKitTestGroup.Name)]
public sealed class LiveKitReconnectTests(LiveKitServerFixture fixture)
{
    private static CancellationToken Timeout(int seconds = 45) =>
        CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken, new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token).Token;

    [Fact]
    public async Task A_dropped_signal_connection_is_resumed_and_frames_and_data_keep_flowing()
    {
        LiveKitServerFixture.RequireServer();
        var ct = Timeout();
        await using var room = await fixture.JoinAvatarRoomAsync("viewer-resume", ct);
        var (states, reconnected) = WatchConnection(room);
        var track = await room.WaitForTrackAsync(LiveKitServerFixture.AvatarIdentity, RoomTrackKind.Video, ct);
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

        // Publishing data first negotiates the publisher connection, so the resume also restarts its ICE.
        Assert.Equal("echo:before", await RoundTripAsync(room, "before", ct));
        await WaitUntilAsync(() => Volatile.Read(ref frames) >= 10, ct);
        var before = await fixture.Server.GetRoomAsync(LiveKitServerFixture.AvatarRoom, ct);
        var sid = before.Participants.Single(p => p.Identity == "viewer-resume").Sid;

        var clock = Stopwatch.StartNew();
        await fixture.Server.DropSignalAsync(LiveKitServerFixture.AvatarRoom, "viewer-resume", cancellationToken: ct);
        await reconnected.Task.WaitAsync(ct);
        TestContext.Current.TestOutputHelper?.WriteLine($"resumed {clock.ElapsedMilliseconds} ms after the signal connection was cut");

        Assert.Equal([(RoomConnectionState.Reconnecting, "reconnecting"), (RoomConnectionState.Connected, "reconnected")], states.ToArray());
        var after = await fixture.Server.GetRoomAsync(LiveKitServerFixture.AvatarRoom, ct);
        var resumed = after.Participants.Single(p => p.Identity == "viewer-resume");
        Assert.Equal(sid, resumed.Sid); // the same session, not a new join
        Assert.Equal(1, resumed.Resumes);
        Assert.Equal(1, resumed.SyncStates); // the SDK re-announced its subscriptions and tracks
        Assert.Equal(before.Participants.Single(p => p.Identity == "viewer-resume").PublisherOffers + 1, resumed.PublisherOffers); // ICE restart, answered
        Assert.Equal(before.Participants.Single(p => p.Identity == "viewer-resume").SubscriberIceRestarts + 1, resumed.SubscriberIceRestarts); // and the server restarted the subscriber's
        Assert.True(resumed.SignalConnected);
        Assert.Contains(room.RemoteParticipants, p => p.Identity == LiveKitServerFixture.AvatarIdentity);

        var atResume = Volatile.Read(ref frames);
        await WaitUntilAsync(() => Volatile.Read(ref frames) >= atResume + 30, ct); // the same stream goes on
        Assert.Equal("echo:after", await RoundTripAsync(room, "after", ct));
        Assert.False(reading.IsCompleted);
        Assert.Equal(RoomConnectionState.Connected, room.State);
    }

    [Fact]
    public async Task A_refused_resume_ends_in_a_full_reconnect_with_new_subscriptions_and_working_data()
    {
        LiveKitServerFixture.RequireServer();
        var ct = Timeout();
        await using var listener = await fixture.JoinAvatarRoomAsync("viewer-restart-listener", ct);
        await using var room = await fixture.JoinAvatarRoomAsync("viewer-restart", ct);
        await using var microphone = await room.PublishAudioAsync("mic", new ToneInput(), cancellationToken: ct);
        var firstSid = microphone.Track.Sid;
        var republished = new TaskCompletionSource<RoomTrack>(TaskCreationOptions.RunContinuationsAsynchronously);
        listener.TrackSubscribed += (_, e) =>
        {
            if (e.Track.ParticipantIdentity == "viewer-restart" && e.Track.Sid != firstSid)
            {
                republished.TrySetResult(e.Track);
            }
        };
        var (states, reconnected) = WatchConnection(room);
        var resubscribed = new TaskCompletionSource<RoomTrack>(TaskCreationOptions.RunContinuationsAsynchronously);
        var track = await room.WaitForTrackAsync(LiveKitServerFixture.AvatarIdentity, RoomTrackKind.Video, ct);
        Assert.Equal("echo:before", await RoundTripAsync(room, "before", ct));
        var before = await fixture.Server.GetRoomAsync(LiveKitServerFixture.AvatarRoom, ct);
        var sid = before.Participants.Single(p => p.Identity == "viewer-restart").Sid;
        room.TrackSubscribed += (_, e) =>
        {
            if (e.Track.Kind == RoomTrackKind.Video)
            {
                resubscribed.TrySetResult(e.Track);
            }
        };

        var clock = Stopwatch.StartNew();
        await fixture.Server.DropSignalAsync(LiveKitServerFixture.AvatarRoom, "viewer-restart", refuseResume: true, ct);
        await reconnected.Task.WaitAsync(ct);
        TestContext.Current.TestOutputHelper?.WriteLine($"reconnected from scratch {clock.ElapsedMilliseconds} ms after the signal connection was cut");

        Assert.Equal([(RoomConnectionState.Reconnecting, "reconnecting"), (RoomConnectionState.Connected, "reconnected")], states.ToArray());
        var after = await fixture.Server.GetRoomAsync(LiveKitServerFixture.AvatarRoom, ct);
        var rejoined = after.Participants.Single(p => p.Identity == "viewer-restart");
        Assert.NotEqual(sid, rejoined.Sid); // a new session
        Assert.Equal(0, rejoined.Resumes);

        // A full reconnect subscribes the avatar's tracks again; readers start over on the new subscription.
        var again = await resubscribed.Task.WaitAsync(ct);
        Assert.Equal(track.Sid, again.Sid);
        var frames = 0;
        await foreach (var frame in room.ReadVideoAsync(again, VideoPixelFormat.I420, ct))
        {
            frame.Dispose();
            if (++frames == 30)
            {
                break;
            }
        }

        Assert.Equal("echo:after", await RoundTripAsync(room, "after", ct));

        // The SDK republished the local track under a new sid; the same input goes on into it and is heard.
        var heard = await republished.Task.WaitAsync(ct);
        Assert.Equal(heard.Sid, microphone.Track.Sid);
        Assert.False(microphone.Completion.IsCompleted);
        var samples = new List<short>();
        await foreach (var frame in listener.ReadAudioAsync(heard, AudioFormat.Pcm16Mono48kHz, ct))
        {
            using (frame)
            {
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

        Assert.InRange(LiveKitTestMedia.EstimateFrequency(samples.Skip(9_600).ToArray(), 48_000), LiveKitTestMedia.ToneFrequency - 5, LiveKitTestMedia.ToneFrequency + 5);
        Assert.True(Assert.Single(await room.GetTrackStatsAsync(microphone.Track, ct)).Packets > 0);
    }

    // A media cut is noticed only when libwebrtc's ICE gives the peer connections up (about 15 s), so these tests get more time.
    [Fact]
    public async Task A_cut_media_path_is_recovered_and_video_audio_and_data_flow_again()
    {
        LiveKitServerFixture.RequireServer();
        var ct = Timeout(90);
        await using var room = await fixture.JoinAvatarRoomAsync("viewer-cut", ct);
        var (states, reconnected) = WatchConnection(room);
        var clock = Stopwatch.StartNew();
        var reconnecting = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        room.ConnectionStateChanged += (_, e) =>
        {
            if (e.State == RoomConnectionState.Reconnecting)
            {
                reconnecting.TrySetResult(clock.Elapsed);
            }
        };
        var video = new FrameLog(clock);
        var audio = new FrameLog(clock);
        var reading = ReadAvatarMediaAsync(room, video, audio, ct);

        // Publishing data first negotiates the publisher connection, so both peer connections are cut.
        Assert.Equal("echo:before", await RoundTripAsync(room, "before", ct));
        await WaitUntilAsync(() => video.Count >= 10 && audio.Count >= 10, ct);
        var before = (await fixture.Server.GetRoomAsync(LiveKitServerFixture.AvatarRoom, ct)).Participants.Single(p => p.Identity == "viewer-cut");
        var resubscribed = WatchSubscriptions(room);

        var cutAt = clock.Elapsed;
        await fixture.Server.CutMediaAsync(LiveKitServerFixture.AvatarRoom, "viewer-cut", cancellationToken: ct);
        await reconnected.Task.WaitAsync(ct);
        var reconnectedAt = clock.Elapsed;

        // The SDK saw its peer connections fail (the signal socket stayed up) and recovered.
        Assert.Equal([(RoomConnectionState.Reconnecting, "reconnecting"), (RoomConnectionState.Connected, "reconnected")], states.ToArray());
        var after = (await fixture.Server.GetRoomAsync(LiveKitServerFixture.AvatarRoom, ct)).Participants.Single(p => p.Identity == "viewer-cut");
        Assert.True(after.SignalConnected);
        Assert.Contains(room.RemoteParticipants, p => p.Identity == LiveKitServerFixture.AvatarIdentity);
        var failedAt = await reconnecting.Task.WaitAsync(ct);
        string recovered;
        if (after.Sid == before.Sid)
        {
            // Usually a resume of the same session, with an ICE restart of each connection. Frames of the
            // same subscriptions flow again (the readers never ended): video, and the avatar's tone (audio
            // frames never stop: the decoder fills the gap with silence).
            Assert.Equal(1, after.MediaCuts);
            Assert.Equal(1, after.Resumes);
            Assert.Equal(before.PublisherOffers + 1, after.PublisherOffers); // the client's ICE restart
            Assert.Equal(before.SubscriberIceRestarts + 1, after.SubscriberIceRestarts); // the server's
            var (videoAtReconnect, audioAtReconnect) = (video.Count, audio.Count);
            await WaitUntilAsync(() => video.Count >= videoAtReconnect + 30 && audio.Count >= audioAtReconnect + 50, ct);
            Assert.InRange(LiveKitTestMedia.EstimateFrequency(audio.RecentSamples(), 48_000), LiveKitTestMedia.ToneFrequency - 5, LiveKitTestMedia.ToneFrequency + 5);
            Assert.False(reading.IsCompleted);
            recovered = $"resumed; audio again after {(audio.FirstAfter(failedAt) - cutAt).TotalMilliseconds:F0} ms, video after {(video.FirstAfter(failedAt) - cutAt).TotalMilliseconds:F0} ms";
        }
        else
        {
            // When both connections fail in the same instant, LiveKit's SDK skips the resume and joins
            // again from scratch: the old subscriptions' readers end; the tracks are subscribed again.
            Assert.Equal(0, after.Resumes);
            await reading.WaitAsync(ct);
            var (newVideo, newAudio) = (new FrameLog(clock), new FrameLog(clock));
            var again = ReadAvatarMediaAsync(room, newVideo, newAudio, ct, await resubscribed.Video.Task.WaitAsync(ct), await resubscribed.Audio.Task.WaitAsync(ct));
            await WaitUntilAsync(() => newVideo.Count >= 30 && newAudio.Count >= 50, ct);
            Assert.InRange(LiveKitTestMedia.EstimateFrequency(newAudio.RecentSamples(), 48_000), LiveKitTestMedia.ToneFrequency - 5, LiveKitTestMedia.ToneFrequency + 5);
            Assert.False(again.IsCompleted);
            recovered = $"reconnected from scratch; audio again after {(newAudio.FirstAfter(failedAt) - cutAt).TotalMilliseconds:F0} ms, video after {(newVideo.FirstAfter(failedAt) - cutAt).TotalMilliseconds:F0} ms";
        }

        // Data gets through both ways.
        Assert.Equal("echo:after", await RoundTripAsync(room, "after", ct));
        Assert.Equal(RoomConnectionState.Connected, room.State);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"media cut: peer connections failed after {(failedAt - cutAt).TotalMilliseconds:F0} ms, reconnected after {(reconnectedAt - cutAt).TotalMilliseconds:F0} ms; {recovered}");
    }

    [Fact]
    public async Task A_cut_media_path_whose_resume_is_refused_ends_in_a_full_reconnect_with_new_subscriptions()
    {
        LiveKitServerFixture.RequireServer();
        var ct = Timeout(90);
        await using var room = await fixture.JoinAvatarRoomAsync("viewer-cut-rejoin", ct);
        var (states, reconnected) = WatchConnection(room);
        var (video, audio) = (new FrameLog(Stopwatch.StartNew()), new FrameLog(Stopwatch.StartNew()));
        var reading = ReadAvatarMediaAsync(room, video, audio, ct);
        Assert.Equal("echo:before", await RoundTripAsync(room, "before", ct));
        await WaitUntilAsync(() => video.Count >= 10, ct);
        var firstSid = (await fixture.Server.GetRoomAsync(LiveKitServerFixture.AvatarRoom, ct)).Participants.Single(p => p.Identity == "viewer-cut-rejoin").Sid;
        var resubscribed = WatchSubscriptions(room);

        await fixture.Server.CutMediaAsync(LiveKitServerFixture.AvatarRoom, "viewer-cut-rejoin", FakeLiveKitRecovery.Reconnect, ct);
        await reconnected.Task.WaitAsync(ct);

        // A new session with new peer connections. The old subscriptions' readers end; the avatar's
        // tracks are subscribed again and their frames flow; data gets through.
        Assert.Equal([(RoomConnectionState.Reconnecting, "reconnecting"), (RoomConnectionState.Connected, "reconnected")], states.ToArray());
        var rejoined = (await fixture.Server.GetRoomAsync(LiveKitServerFixture.AvatarRoom, ct)).Participants.Single(p => p.Identity == "viewer-cut-rejoin");
        Assert.NotEqual(firstSid, rejoined.Sid);
        Assert.Equal(0, rejoined.MediaCuts);
        await reading.WaitAsync(ct);
        var (newVideo, newAudio) = (new FrameLog(Stopwatch.StartNew()), new FrameLog(Stopwatch.StartNew()));
        var again = ReadAvatarMediaAsync(room, newVideo, newAudio, ct, await resubscribed.Video.Task.WaitAsync(ct), await resubscribed.Audio.Task.WaitAsync(ct));
        await WaitUntilAsync(() => newVideo.Count >= 30 && newAudio.Count >= 50, ct);
        Assert.InRange(LiveKitTestMedia.EstimateFrequency(newAudio.RecentSamples(), 48_000), LiveKitTestMedia.ToneFrequency - 5, LiveKitTestMedia.ToneFrequency + 5);
        Assert.Equal("echo:after", await RoundTripAsync(room, "after", ct));
        Assert.False(again.IsCompleted);
        Assert.Equal(RoomConnectionState.Connected, room.State);
        Assert.Contains(room.RemoteParticipants, p => p.Identity == LiveKitServerFixture.AvatarIdentity);
    }

    [Fact]
    public async Task A_cut_media_path_the_server_gives_up_ends_in_a_clear_disconnect_with_its_reason()
    {
        LiveKitServerFixture.RequireServer();
        var ct = Timeout(60);
        await using var room = await fixture.JoinAvatarRoomAsync("viewer-cut-refused", ct);
        var states = new ConcurrentQueue<(RoomConnectionState State, string? Reason)>();
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        room.ConnectionStateChanged += (_, e) =>
        {
            states.Enqueue((e.State, e.Reason));
            if (e.State == RoomConnectionState.Disconnected)
            {
                disconnected.TrySetResult();
            }
        };
        var (video, audio) = (new FrameLog(Stopwatch.StartNew()), new FrameLog(Stopwatch.StartNew()));
        var reading = ReadAvatarMediaAsync(room, video, audio, ct);
        Assert.Equal("echo:before", await RoundTripAsync(room, "before", ct));
        await WaitUntilAsync(() => video.Count >= 10, ct);

        await fixture.Server.CutMediaAsync(LiveKitServerFixture.AvatarRoom, "viewer-cut-refused", FakeLiveKitRecovery.Refuse, ct);
        await disconnected.Task.WaitAsync(ct);

        // The server gave the session up before the SDK noticed the cut: the room ends with the
        // server's reason (no reconnect attempt), its readers end, sends fail; the others stay.
        Assert.Equal([(RoomConnectionState.Disconnected, "MediaFailure")], states.ToArray());
        await reading.WaitAsync(ct);
        await Assert.ThrowsAsync<InvalidOperationException>(() => room.PublishDataAsync("late"u8.ToArray(), cancellationToken: ct));
        var after = await fixture.Server.GetRoomAsync(LiveKitServerFixture.AvatarRoom, ct);
        Assert.DoesNotContain(after.Participants, p => p.Identity == "viewer-cut-refused");
        Assert.Contains(after.Participants, p => p.Identity == LiveKitServerFixture.AvatarIdentity);
    }

    /// <summary>Completes with the avatar's video and audio tracks when they are subscribed (again) from now on.</summary>
    private static (TaskCompletionSource<RoomTrack> Video, TaskCompletionSource<RoomTrack> Audio) WatchSubscriptions(IRealtimeRoom room)
    {
        var video = new TaskCompletionSource<RoomTrack>(TaskCreationOptions.RunContinuationsAsynchronously);
        var audio = new TaskCompletionSource<RoomTrack>(TaskCreationOptions.RunContinuationsAsynchronously);
        room.TrackSubscribed += (_, e) =>
        {
            if (e.Track.ParticipantIdentity == LiveKitServerFixture.AvatarIdentity)
            {
                (e.Track.Kind == RoomTrackKind.Video ? video : audio).TrySetResult(e.Track);
            }
        };
        return (video, audio);
    }

    /// <summary>
    /// Reads the avatar's video and audio (its tone: frames with sound) until the streams end or the
    /// token is cancelled, logging when each frame arrived; the avatar's current tracks unless given.
    /// </summary>
    private static async Task ReadAvatarMediaAsync(LiveKitRoom room, FrameLog video, FrameLog audio, CancellationToken ct, RoomTrack? videoTrack = null, RoomTrack? audioTrack = null)
    {
        videoTrack ??= await room.WaitForTrackAsync(LiveKitServerFixture.AvatarIdentity, RoomTrackKind.Video, ct);
        audioTrack ??= await room.WaitForTrackAsync(LiveKitServerFixture.AvatarIdentity, RoomTrackKind.Audio, ct);
        await Task.WhenAll(
            Task.Run(
                async () =>
                {
                    await foreach (var frame in room.ReadVideoAsync(videoTrack, VideoPixelFormat.I420, ct))
                    {
                        frame.Dispose();
                        video.Add();
                    }
                },
                ct),
            Task.Run(
                async () =>
                {
                    await foreach (var frame in room.ReadAudioAsync(audioTrack, AudioFormat.Pcm16Mono48kHz, ct))
                    {
                        using (frame)
                        {
                            if (frame.Samples.IndexOfAnyExceptInRange((short)-1000, (short)1000) >= 0)
                            {
                                audio.Add(frame.Samples);
                            }
                        }
                    }
                },
                ct));
    }

    /// <summary>When frames arrived, on a shared clock, and the last 0.25 s of audio samples logged.</summary>
    private sealed class FrameLog(Stopwatch clock)
    {
        private const int KeptSamples = 12_000;
        private readonly List<TimeSpan> _arrivals = [];
        private readonly List<short> _samples = [];

        public int Count
        {
            get
            {
                lock (_arrivals)
                {
                    return _arrivals.Count;
                }
            }
        }

        public void Add(ReadOnlySpan<short> samples = default)
        {
            lock (_arrivals)
            {
                _arrivals.Add(clock.Elapsed);
                _samples.AddRange(samples);
                if (_samples.Count > KeptSamples)
                {
                    _samples.RemoveRange(0, _samples.Count - KeptSamples);
                }
            }
        }

        public short[] RecentSamples()
        {
            lock (_arrivals)
            {
                return [.. _samples];
            }
        }

        public TimeSpan FirstAfter(TimeSpan time)
        {
            lock (_arrivals)
            {
                return _arrivals.First(t => t > time);
            }
        }
    }

    /// <summary>A 440 Hz tone in real time, until stopped.</summary>
    private sealed class ToneInput : IAudioInput
    {
        public string Name => "tone";

        public async IAsyncEnumerable<AudioFrame> CaptureAsync(AudioFormat format, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var perFrame = format.SampleRate / 50;
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
            for (var n = 0L; await timer.WaitForNextTickAsync(cancellationToken); n++)
            {
                yield return LiveKitTestMedia.CreateToneFrame(format, n * perFrame, perFrame);
            }
        }
    }

    private static async Task<string> RoundTripAsync(LiveKitRoom room, string text, CancellationToken ct)
    {
        await using var replies = room.ReadDataAsync("agent-control", ct).GetAsyncEnumerator(ct);
        var next = replies.MoveNextAsync().AsTask();
        await room.PublishDataAsync(Encoding.UTF8.GetBytes(text), new RoomDataOptions { Topic = "agent-control", DestinationIdentities = [LiveKitServerFixture.AvatarIdentity] }, ct);
        Assert.True(await next.WaitAsync(ct));
        return Encoding.UTF8.GetString(replies.Current.Payload.Span);
    }

    /// <summary>Records the room's connection states and completes when it is connected again.</summary>
    private static (ConcurrentQueue<(RoomConnectionState State, string? Reason)> States, TaskCompletionSource Reconnected) WatchConnection(IRealtimeRoom room)
    {
        var states = new ConcurrentQueue<(RoomConnectionState State, string? Reason)>();
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        room.ConnectionStateChanged += (_, e) =>
        {
            states.Enqueue((e.State, e.Reason));
            if (e.State == RoomConnectionState.Connected)
            {
                reconnected.TrySetResult();
            }
        };
        return (states, reconnected);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken ct)
    {
        while (!condition())
        {
            await Task.Delay(50, ct);
        }
    }
}
