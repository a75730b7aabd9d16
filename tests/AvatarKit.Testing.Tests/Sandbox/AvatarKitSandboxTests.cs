using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AvatarKit.Testing.Sandbox;
using AvatarKit.Testing.Streaming;

namespace AvatarKit.Testing.Tests;

/// <summary>The sandbox as a whole: what its options change in every emulator it starts.</summary>
public sealed class AvatarKitSandboxTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_streaming_avatar_publishes_video_at_the_sandbox_size()
    {
        var options = new SandboxOptions { LiveAvatar = false, Deepgram = false, Gemini = false, HeyGenStreaming = true, VideoWidth = 480, VideoHeight = 272 };
        await using var sandbox = await AvatarKitSandbox.StartAsync(options, Ct);
        using var http = new HttpClient { BaseAddress = sandbox.HeyGenStreaming!.BaseUrl };
        http.DefaultRequestHeaders.Add("x-api-key", sandbox.HeyGenStreaming.ApiKey);

        using var created = await http.PostAsJsonAsync("/v1/streaming.new", new { avatar_id = StreamingEmulatorOptions.AvatarId, version = "v2" }, Ct);
        var session = (await created.Content.ReadFromJsonAsync<JsonObject>(Ct))!["data"]!;
        await using var viewer = await sandbox.RoomServer.ConnectAsync(new Uri(session["url"]!.GetValue<string>()), session["access_token"]!.GetValue<string>(), Ct);
        var track = viewer.WaitForTrackAsync("heygen", RoomTrackKind.Video, Ct);
        using var started = await http.PostAsJsonAsync("/v1/streaming.start", new { session_id = session["session_id"]!.GetValue<string>() }, Ct);
        started.EnsureSuccessStatusCode();

        await using var frames = viewer.ReadVideoAsync(await track, VideoPixelFormat.I420, Ct).GetAsyncEnumerator(Ct);
        Assert.True(await frames.MoveNextAsync());
        using var frame = frames.Current;

        Assert.Equal((480, 272), (frame.Width, frame.Height));
    }
}
