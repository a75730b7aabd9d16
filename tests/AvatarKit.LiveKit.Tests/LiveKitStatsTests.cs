using System.Threading.Channels;
using AvatarKit.Testing;

namespace AvatarKit.LiveKit.Tests;

/// <summary>WebRTC statistics and the server's connection-quality reports through the native library.</summary>
[Collection(LiveKitTestGroup.Name)]
public sealed class LiveKitStatsTests(LiveKitServerFixture fixture)
{
    [Fact]
    public async Task Stats_of_the_avatars_tracks_count_bytes_packets_and_decoded_frames_that_grow_while_media_flows()
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard();
        await using var room = await fixture.JoinAvatarRoomAsync("viewer-stats", ct);
        var video = await room.WaitForTrackAsync(LiveKitServerFixture.AvatarIdentity, RoomTrackKind.Video, ct);
        var audio = await room.WaitForTrackAsync(LiveKitServerFixture.AvatarIdentity, RoomTrackKind.Audio, ct);
        var frames = 0;
        var reading = Task.Run(
            async () =>
            {
                await foreach (var frame in room.ReadVideoAsync(video, VideoPixelFormat.I420, ct))
                {
                    frame.Dispose();
                    if (Interlocked.Increment(ref frames) == 40)
                    {
                        break;
                    }
                }
            },
            ct);
        while (Volatile.Read(ref frames) < 10)
        {
            await Task.Delay(50, ct);
        }

        var first = Assert.Single(await room.GetTrackStatsAsync(video, ct));
        var firstAudio = Assert.Single(await room.GetTrackStatsAsync(audio, ct));
        await reading;
        var second = Assert.Single(await room.GetTrackStatsAsync(video, ct));
        var secondAudio = Assert.Single(await room.GetTrackStatsAsync(audio, ct));

        Assert.Equal((LiveKitRtpDirection.Inbound, RoomTrackKind.Video), (second.Direction, second.Kind));
        Assert.Equal("video/VP8", second.MimeType, ignoreCase: true);
        Assert.Equal((320u, 240u), (second.FrameWidth, second.FrameHeight));
        Assert.True(first.Bytes > 0 && second.Bytes > first.Bytes, $"video bytes {first.Bytes} -> {second.Bytes}");
        Assert.True(first.Packets > 0 && second.Packets > first.Packets, $"video packets {first.Packets} -> {second.Packets}");
        Assert.True(first.Frames > 0 && second.Frames > first.Frames, $"frames decoded {first.Frames} -> {second.Frames}");
        Assert.True(second.Frames >= 40, $"decoded {second.Frames} frames, 40 were delivered");
        Assert.True(second.PacketsLost >= 0 && second.Jitter >= TimeSpan.Zero);

        Assert.Equal((LiveKitRtpDirection.Inbound, RoomTrackKind.Audio), (secondAudio.Direction, secondAudio.Kind));
        Assert.Equal("audio/opus", secondAudio.MimeType, ignoreCase: true);
        Assert.True(firstAudio.Bytes > 0 && secondAudio.Bytes > firstAudio.Bytes, $"audio bytes {firstAudio.Bytes} -> {secondAudio.Bytes}");
        Assert.True(secondAudio.Packets > firstAudio.Packets, $"audio packets {firstAudio.Packets} -> {secondAudio.Packets}");
        Assert.True(secondAudio.AudioSamples > firstAudio.AudioSamples, $"audio samples {firstAudio.AudioSamples} -> {secondAudio.AudioSamples}");
        // Loopback delivery can be perfectly paced, so a jitter of zero is a valid measurement.
        Assert.True(secondAudio.Jitter >= TimeSpan.Zero, $"audio jitter {secondAudio.Jitter}");
    }

    [Fact]
    public async Task Stats_of_a_published_track_count_what_was_sent_and_unknown_tracks_are_refused()
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard();
        await using var room = await fixture.JoinAvatarRoomAsync("viewer-stats-sender", ct);
        await using var track = await room.PublishAudioAsync("mic", AudioFormat.Pcm16Mono48kHz, ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var sending = Task.Run(
            async () =>
            {
                for (var sent = 0L; !stop.IsCancellationRequested; sent += 480)
                {
                    using var frame = LiveKitTestMedia.CreateToneFrame(track.Format, sent, 480);
                    await track.WriteAsync(frame, stop.Token);
                }
            },
            ct);

        // The publisher connection may still be connecting when the publish returns: wait for the first
        // packets counted, then for more (the frames keep going).
        var first = await WaitForOutboundAsync(room, track.Track, s => s.Packets > 0, ct);
        var second = await WaitForOutboundAsync(room, track.Track, s => s.Packets > first.Packets, ct);
        await stop.CancelAsync();
        await sending.ContinueWith(_ => { }, TaskScheduler.Default);

        Assert.Equal(RoomTrackKind.Audio, second.Kind);
        Assert.Equal("audio/opus", second.MimeType, ignoreCase: true);
        Assert.True(second.Bytes > first.Bytes, $"bytes {first.Bytes} -> {second.Bytes}");
        await Assert.ThrowsAsync<InvalidOperationException>(() => room.GetTrackStatsAsync(new RoomTrack("TR_unknown", "x", RoomTrackKind.Audio, "nobody"), ct));
    }

    private static async Task<LiveKitRtpStats> WaitForOutboundAsync(LiveKitRoom room, RoomTrack track, Func<LiveKitRtpStats, bool> condition, CancellationToken ct)
    {
        while (true)
        {
            var outbound = (await room.GetTrackStatsAsync(track, ct)).Where(s => s.Direction == LiveKitRtpDirection.Outbound).ToList();
            if (outbound.Count == 1 && condition(outbound[0]))
            {
                return outbound[0];
            }

            Assert.True(outbound.Count <= 1, $"{outbound.Count} outbound streams");
            await Task.Delay(100, ct);
        }
    }

    [Fact]
    public async Task Connection_quality_reports_arrive_for_each_participant_and_follow_the_servers_changes()
    {
        LiveKitServerFixture.RequireServer();
        var ct = LiveKitServerFixture.HangGuard();
        await using var room = await fixture.JoinAvatarRoomAsync("viewer-quality", ct);
        var reports = Channel.CreateUnbounded<LiveKitConnectionQualityEventArgs>();
        room.ConnectionQualityChanged += (_, e) => reports.Writer.TryWrite(e);

        var seen = new Dictionary<string, LiveKitConnectionQuality>();
        while (seen.Count < 2)
        {
            var report = await reports.Reader.ReadAsync(ct);
            seen[report.ParticipantIdentity] = report.Quality;
        }

        Assert.Equal(LiveKitConnectionQuality.Excellent, seen["viewer-quality"]);
        Assert.Equal(LiveKitConnectionQuality.Excellent, seen[LiveKitServerFixture.AvatarIdentity]);
        try
        {
            await fixture.Server.SetConnectionQualityAsync(LiveKitServerFixture.AvatarRoom, LiveKitServerFixture.AvatarIdentity, "poor", ct);
            LiveKitConnectionQualityEventArgs avatar;
            do
            {
                avatar = await reports.Reader.ReadAsync(ct);
            }
            while (avatar.ParticipantIdentity != LiveKitServerFixture.AvatarIdentity || avatar.Quality == LiveKitConnectionQuality.Excellent);

            Assert.Equal(LiveKitConnectionQuality.Poor, avatar.Quality);
        }
        finally
        {
            await fixture.Server.SetConnectionQualityAsync(LiveKitServerFixture.AvatarRoom, LiveKitServerFixture.AvatarIdentity, "excellent", CancellationToken.None);
        }
    }
}
