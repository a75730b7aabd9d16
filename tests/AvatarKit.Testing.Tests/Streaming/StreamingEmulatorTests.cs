using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using AvatarKit.Testing.Streaming;

namespace AvatarKit.Testing.Tests;

/// <summary>The Streaming API v1 emulator with a plain HttpClient: envelopes, error codes, session counting.</summary>
public sealed class StreamingEmulatorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_emulator_answers_with_the_documented_codes_and_counts_sessions()
    {
        var rooms = new InProcessRoomServer();
        await using var emulator = await StreamingEmulator.StartAsync(new InProcessRoomHost(rooms), new StreamingEmulatorOptions { MaxConcurrentSessions = 1 }, Ct);
        using var http = new HttpClient { BaseAddress = emulator.BaseUrl };

        using var unauthorized = await http.PostAsJsonAsync("/v1/streaming.new", new { avatar_id = StreamingEmulatorOptions.AvatarId, version = "v2" }, Ct);
        Assert.Equal(400112, (await unauthorized.Content.ReadFromJsonAsync<JsonObject>(Ct))!["code"]!.GetValue<int>());
        http.DefaultRequestHeaders.Add("x-api-key", emulator.ApiKey);

        using var unknown = await http.PostAsJsonAsync("/v1/streaming.new", new { avatar_id = "Nobody", version = "v2" }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal(10013, (await unknown.Content.ReadFromJsonAsync<JsonObject>(Ct))!["code"]!.GetValue<int>());

        using var created = await http.PostAsJsonAsync("/v1/streaming.new", new { avatar_name = StreamingEmulatorOptions.AvatarId, version = "v2" }, Ct);
        var data = (await created.Content.ReadFromJsonAsync<JsonObject>(Ct))!;
        Assert.Equal(100, data["code"]!.GetValue<int>());
        var id = data["data"]!["session_id"]!.GetValue<string>();
        Assert.Equal(1, emulator.OpenSessionCount);

        using var limited = await http.PostAsJsonAsync("/v1/streaming.new", new { avatar_id = StreamingEmulatorOptions.AvatarId, version = "v2" }, Ct);
        Assert.Equal(10004, (await limited.Content.ReadFromJsonAsync<JsonObject>(Ct))!["code"]!.GetValue<int>());

        using var early = await http.PostAsJsonAsync("/v1/streaming.task", new { session_id = id, text = "Hi." }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, early.StatusCode);
        using var started = await http.PostAsJsonAsync("/v1/streaming.start", new { session_id = id }, Ct);
        Assert.Equal(HttpStatusCode.OK, started.StatusCode);
        Assert.NotNull(emulator.GetAvatar(id));
        using var task = await http.PostAsJsonAsync("/v1/streaming.task", new { session_id = id, text = "Hi.", task_type = "repeat", task_mode = "sync" }, Ct);
        Assert.True((await task.Content.ReadFromJsonAsync<JsonObject>(Ct))!["data"]!["duration_ms"]!.GetValue<double>() > 0);

        using var stopped = await http.PostAsJsonAsync("/v1/streaming.stop", new { session_id = id }, Ct);
        Assert.Equal(HttpStatusCode.OK, stopped.StatusCode);
        Assert.Equal(0, emulator.OpenSessionCount);
        Assert.Empty(rooms.RoomNames);
    }
}
