using AvatarKit.Testing;

namespace AvatarKit.LiveKit.Tests;

[Collection(LiveKitTestGroup.Name)]
public sealed class LiveKitRoomTests(LiveKitServerFixture fixture)
{
    private static CancellationToken Timeout(int seconds = 20) =>
        CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken, new CancellationTokenSource(TimeSpan.FromSeconds(seconds)).Token).Token;

    [Fact]
    public async Task Video_of_the_avatar_arrives_as_I420_frames_with_the_published_bar_colours()
    {
        LiveKitServerFixture.RequireServer();
        var ct = Timeout(30);
        await using var room = await fixture.JoinAvatarRoomAsync("viewer-video", ct);
        var track = await room.WaitForTrackAsync(LiveKitServerFixture.AvatarIdentity, RoomTrackKind.Video, ct);

        var frames = 0;
        await foreach (var frame in room.ReadVideoAsync(track, VideoPixelFormat.I420, ct))
        {
            using (frame)
            {
                Assert.Equal((320, 240), (frame.Width, frame.Height));
                AssertBars(frame);
            }

            if (++frames == 100)
            {
                break;
            }
        }

        Assert.Equal(100, frames);
    }

    private static void AssertBars(VideoFrame frame)
    {
        for (var bar = 0; bar < 4; bar++)
        {
            var expected = LiveKitTestMedia.Bars[bar];
            var x = (2 * bar + 1) * frame.Width / 8;
            var y = frame.Height / 2;
            Assert.InRange(frame.PlaneY[y * frame.Width + x], expected.Y - 12, expected.Y + 12);
            Assert.InRange(frame.PlaneU[(y / 2) * frame.ChromaWidth + x / 2], expected.U - 12, expected.U + 12);
            Assert.InRange(frame.PlaneV[(y / 2) * frame.ChromaWidth + x / 2], expected.V - 12, expected.V + 12);
        }
    }
}
