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
    [Fact]
    public async Task A_dropped_signal_connection_is_resumed_and_frames_and_data_keep_flowing()
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard();
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
        // The SDK sends its SyncState without waiting for an answer, so the server may count it after the SDK reports the resume.
        var resumed = await WaitForServerAsync(fixture, "viewer-resume", p => p.SyncStates > 0, ct);
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
        var ct = LiveKitServerFixture.HangGuard();
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

    // A media cut is noticed only when libwebrtc's ICE gives the peer connections up (about 15 s), so
    // these tests get more time, and two viewers share one such wait: the server resumes one and
    // refuses the other's resume, so that one joins again from scratch.
    [Fact]
    public async Task A_cut_media_path_is_recovered_by_a_resume_or_a_new_join_and_video_audio_and_data_flow_again()
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard(90);
        var clock = Stopwatch.StartNew();
        await using var resumed = await CutViewer.JoinAsync(fixture, "viewer-cut", clock, ct);
        await using var rejoined = await CutViewer.JoinAsync(fixture, "viewer-cut-rejoin", clock, ct);

        var cutAt = clock.Elapsed;
        await Task.WhenAll(
            fixture.Server.CutMediaAsync(LiveKitServerFixture.AvatarRoom, resumed.Identity, cancellationToken: ct),
            fixture.Server.CutMediaAsync(LiveKitServerFixture.AvatarRoom, rejoined.Identity, FakeLiveKitRecovery.Reconnect, ct));

        var resumeOutcome = await resumed.RecoverAsync(fixture, ct);
        var rejoinOutcome = await rejoined.RecoverAsync(fixture, ct);
        Assert.NotEqual(rejoined.Before.Sid, rejoinOutcome.Sid); // the refused resume ended in a new session
        TestContext.Current.TestOutputHelper?.WriteLine($"media cut: {resumeOutcome.Describe(cutAt)}");
        TestContext.Current.TestOutputHelper?.WriteLine($"media cut, resume refused: {rejoinOutcome.Describe(cutAt)}");
    }

    [Fact]
    public async Task A_cut_media_path_the_server_gives_up_ends_in_a_clear_disconnect_with_its_reason()
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard(60);
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

    /// <summary>A viewer of the avatar whose media path a test cuts: its connection states, frames and data before and after.</summary>
    private sealed class CutViewer : IAsyncDisposable
    {
        private readonly LiveKitRoom _room;
        private readonly Stopwatch _clock;
        private readonly ConcurrentQueue<(RoomConnectionState State, string? Reason)> _states;
        private readonly TaskCompletionSource _reconnected;
        private readonly TaskCompletionSource<TimeSpan> _reconnecting = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly (TaskCompletionSource<RoomTrack> Video, TaskCompletionSource<RoomTrack> Audio) _resubscribed;
        private readonly FrameLog _video;
        private readonly FrameLog _audio;
        private readonly Task _reading;

        private CutViewer(LiveKitRoom room, string identity, Stopwatch clock, CancellationToken ct)
        {
            (_room, Identity, _clock) = (room, identity, clock);
            (_states, _reconnected) = WatchConnection(room);
            room.ConnectionStateChanged += (_, e) =>
            {
                if (e.State == RoomConnectionState.Reconnecting)
                {
                    _reconnecting.TrySetResult(clock.Elapsed);
                }
            };
            (_video, _audio) = (new FrameLog(clock), new FrameLog(clock));
            _reading = ReadAvatarMediaAsync(room, _video, _audio, ct);
            _resubscribed = WatchSubscriptions(room);
        }

        public string Identity { get; }

        public FakeLiveKitParticipantState Before { get; private set; } = null!;

        /// <summary>Joins, and makes sure frames and data flow (publishing data negotiates the publisher connection, so both connections get cut).</summary>
        public static async Task<CutViewer> JoinAsync(LiveKitServerFixture fixture, string identity, Stopwatch clock, CancellationToken ct)
        {
            var viewer = new CutViewer(await fixture.JoinAvatarRoomAsync(identity, ct), identity, clock, ct);
            Assert.Equal("echo:before", await RoundTripAsync(viewer._room, "before", ct));
            await WaitUntilAsync(() => viewer._video.Count >= 10 && viewer._audio.Count >= 10, ct);
            viewer.Before = (await fixture.Server.GetRoomAsync(LiveKitServerFixture.AvatarRoom, ct)).Participants.Single(p => p.Identity == identity);
            return viewer;
        }

        /// <summary>Waits for the SDK to recover from the cut and checks that video, the avatar's tone and data flow again.</summary>
        public async Task<Recovery> RecoverAsync(LiveKitServerFixture fixture, CancellationToken ct)
        {
            await _reconnected.Task.WaitAsync(ct);
            var reconnectedAt = _clock.Elapsed;

            // The SDK saw its peer connections fail (the signal socket stayed up) and recovered.
            Assert.Equal([(RoomConnectionState.Reconnecting, "reconnecting"), (RoomConnectionState.Connected, "reconnected")], _states.ToArray());
            var failedAt = await _reconnecting.Task.WaitAsync(ct);
            var after = (await fixture.Server.GetRoomAsync(LiveKitServerFixture.AvatarRoom, ct)).Participants.Single(p => p.Identity == Identity);
            Assert.True(after.SignalConnected);
            Assert.Contains(_room.RemoteParticipants, p => p.Identity == LiveKitServerFixture.AvatarIdentity);
            var (video, audio) = (_video, _audio);
            if (after.Sid == Before.Sid)
            {
                // A resume of the same session, with an ICE restart of each connection. Frames of the same
                // subscriptions flow again (the readers never ended).
                Assert.Equal(1, after.MediaCuts);
                Assert.Equal(1, after.Resumes);
                Assert.Equal(Before.PublisherOffers + 1, after.PublisherOffers); // the client's ICE restart
                Assert.Equal(Before.SubscriberIceRestarts + 1, after.SubscriberIceRestarts); // the server's
                var (videoAtReconnect, audioAtReconnect) = (video.Count, audio.Count);
                await WaitUntilAsync(() => video.Count >= videoAtReconnect + 30 && audio.Count >= audioAtReconnect + 50, ct);
                Assert.False(_reading.IsCompleted);
            }
            else
            {
                // A new session (the server refused the resume, or both connections failed in the same
                // instant and the SDK skipped the resume): the old subscriptions' readers end, and the
                // avatar's tracks are subscribed again.
                Assert.Equal(0, after.Resumes);
                await _reading.WaitAsync(ct);
                (video, audio) = (new FrameLog(_clock), new FrameLog(_clock));
                var reading = ReadAvatarMediaAsync(_room, video, audio, ct, await _resubscribed.Video.Task.WaitAsync(ct), await _resubscribed.Audio.Task.WaitAsync(ct));
                await WaitUntilAsync(() => video.Count >= 30 && audio.Count >= 50, ct);
                Assert.False(reading.IsCompleted);
            }

            // The avatar's tone is back (audio frames never stop: the decoder fills the gap with silence), and data gets through both ways.
            Assert.InRange(LiveKitTestMedia.EstimateFrequency(audio.RecentSamples(), 48_000), LiveKitTestMedia.ToneFrequency - 5, LiveKitTestMedia.ToneFrequency + 5);
            Assert.Equal("echo:after", await RoundTripAsync(_room, "after", ct));
            Assert.Equal(RoomConnectionState.Connected, _room.State);
            return new Recovery(after.Sid, after.Sid == Before.Sid, failedAt, reconnectedAt, audio.FirstAfter(failedAt), video.FirstAfter(failedAt));
        }

        public ValueTask DisposeAsync() => _room.DisposeAsync();
    }

    /// <summary>How a viewer recovered from a media cut, on the test's clock.</summary>
    private sealed record Recovery(string Sid, bool Resumed, TimeSpan FailedAt, TimeSpan ReconnectedAt, TimeSpan AudioAt, TimeSpan VideoAt)
    {
        public string Describe(TimeSpan cutAt) =>
            $"peer connections failed after {(FailedAt - cutAt).TotalMilliseconds:F0} ms, {(Resumed ? "resumed" : "joined again")}, reconnected after {(ReconnectedAt - cutAt).TotalMilliseconds:F0} ms; " +
            $"audio again after {(AudioAt - cutAt).TotalMilliseconds:F0} ms, video after {(VideoAt - cutAt).TotalMilliseconds:F0} ms";
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

    /// <summary>The server's view of a participant once <paramref name="condition"/> holds.</summary>
    private static async Task<FakeLiveKitParticipantState> WaitForServerAsync(LiveKitServerFixture fixture, string identity, Func<FakeLiveKitParticipantState, bool> condition, CancellationToken ct)
    {
        while (true)
        {
            var state = (await fixture.Server.GetRoomAsync(LiveKitServerFixture.AvatarRoom, ct)).Participants.SingleOrDefault(p => p.Identity == identity);
            if (state is not null && condition(state))
            {
                return state;
            }

            await Task.Delay(50, ct);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken ct)
    {
        while (!condition())
        {
            await Task.Delay(50, ct);
        }
    }
}
