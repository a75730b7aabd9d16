using System.Text.Json;
using AvatarKit.Testing.Streaming;

namespace AvatarKit.Testing.Tests.Streaming;

/// <summary>
/// HeyGen's own Streaming API v1 SDK (<c>@heygen/streaming-avatar</c> 2.1.0, the last version that
/// ships code) against the emulator. Runs when <c>HEYGEN_STREAMING_SDK_DIR</c> names a directory
/// where the SDK was installed with npm.
/// </summary>
/// <remarks>
/// Its REST calls (streaming.new, start, task, interrupt, start/stop_listening, keep_alive, stop)
/// run through the SDK's own methods. <c>startAvatar</c>, which joins the LiveKit room and opens the
/// voice-chat WebSocket at <c>wss://&lt;API host&gt;/v1/ws/streaming.chat</c> (always port 443), is
/// not exercised: the emulator has no voice-chat socket.
/// </remarks>
public sealed class StreamingEmulatorSdkTests
{
    private const string Script = NodeSdkScript.BrowserGlobals + """
        // The package's "main" is CommonJS in a "type": "module" package, which Node.js cannot load: take its ES module build.
        const { default: StreamingAvatar, TaskType, TaskMode } = await import("@heygen/streaming-avatar/lib/index.esm.js");
        const [basePath, apiKey, avatarName] = process.argv.slice(2);
        const print = (name, value) => console.log(`${name} ${JSON.stringify(value)}`);
        const errorOf = e => ({ name: e?.name, message: e?.message, status: e?.status, body: JSON.parse(e?.responseText ?? "null") });
        const created = await fetch(`${basePath}/v1/streaming.create_token`, { method: "POST", headers: { "x-api-key": apiKey } });
        const { data: { token } } = await created.json();

        const avatar = new StreamingAvatar({ token, basePath });
        const session = await avatar.newSession({ avatarName, quality: "low", language: "en", voice: { rate: 1.1, emotion: "friendly" }, activityIdleTimeout: 60 });
        print("new", session);
        avatar.sessionId = session.session_id; // what startAvatar sets before it joins the room
        const start = await avatar.startSession();
        const repeat = await avatar.speak({ text: "Hello from the official SDK.", taskType: TaskType.REPEAT, taskMode: TaskMode.SYNC });
        const talk = await avatar.speak({ text: "How are you?", taskType: TaskType.TALK, taskMode: TaskMode.SYNC });
        const long = await avatar.speak({ text: "This sentence goes on and on. ".repeat(30), taskType: TaskType.REPEAT });
        const interrupt = await avatar.interrupt();
        const listening = [await avatar.startListening(), await avatar.stopListening()];
        const keepAlive = await avatar.keepAlive();
        const stop = await avatar.stopAvatar();
        print("calls", { start: start ?? null, repeat, talk, long, interrupt: interrupt ?? null, listening, keepAlive: keepAlive ?? null, stop: stop ?? null });

        const refused = {};
        try { await avatar.speak({ text: "Too late.", taskType: TaskType.REPEAT }); } catch (e) { refused.closed = errorOf(e); }
        try { await new StreamingAvatar({ token: "not-a-token", basePath }).newSession({ avatarName }); } catch (e) { refused.token = errorOf(e); }
        try { await avatar.newSession({ avatarName: "Nobody_public" }); } catch (e) { refused.avatar = errorOf(e); }
        print("refused", refused);
        """;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_sdk_creates_starts_drives_and_stops_a_session_and_reports_refusals_with_the_provider_envelope()
    {
        var sdkDir = NodeSdkScript.RequireSdk("HEYGEN_STREAMING_SDK_DIR", "@heygen/streaming-avatar");
        NodeSdkScript.RequireSdk("HEYGEN_STREAMING_SDK_DIR", "@roamhq/wrtc");
        var rooms = new InProcessRoomServer();
        await using var emulator = await StreamingEmulator.StartAsync(new InProcessRoomHost(rooms), cancellationToken: Token);

        var result = await NodeSdkScript.RunAsync(
            sdkDir, Script, [emulator.BaseUrl.ToString().TrimEnd('/'), emulator.ApiKey, StreamingEmulatorOptions.AvatarId], TimeSpan.FromSeconds(90), Token);

        Assert.True(result.ExitCode == 0, $"node exited {result.ExitCode}: {result.Error}\n{string.Join('\n', result.Lines)}");
        var created = Parse(result.Line("new"));
        Assert.True(Guid.TryParse(created.GetProperty("session_id").GetString(), out _));
        Assert.False(string.IsNullOrEmpty(created.GetProperty("url").GetString()));
        Assert.False(string.IsNullOrEmpty(created.GetProperty("access_token").GetString()));
        Assert.True(created.GetProperty("is_paid").GetBoolean());
        Assert.Equal(600, created.GetProperty("session_duration_limit").GetInt32());

        var calls = Parse(result.Line("calls"));
        Assert.Equal(JsonValueKind.Null, calls.GetProperty("start").ValueKind);
        foreach (var task in new[] { "repeat", "talk", "long" })
        {
            Assert.True(calls.GetProperty(task).GetProperty("duration_ms").GetDouble() > 0);
            Assert.False(string.IsNullOrEmpty(calls.GetProperty(task).GetProperty("task_id").GetString()));
        }

        Assert.Equal(JsonValueKind.Null, calls.GetProperty("interrupt").ValueKind);
        Assert.Equal([JsonValueKind.Null, JsonValueKind.Null], calls.GetProperty("listening").EnumerateArray().Select(e => e.ValueKind));
        Assert.Equal(JsonValueKind.Null, calls.GetProperty("stop").ValueKind);
        Assert.Equal(0, emulator.OpenSessionCount);

        // What the SDK sent: the Bearer token on every call, its own body fields for streaming.new.
        Assert.All(emulator.Requests.Where(r => r.Path != "/v1/streaming.create_token"), r => Assert.Equal("bearer", r.AuthScheme));
        var newBody = JsonDocument.Parse(emulator.Requests.First(r => r.Path == "/v1/streaming.new").Body).RootElement;
        Assert.Equal(StreamingEmulatorOptions.AvatarId, newBody.GetProperty("avatar_name").GetString());
        Assert.Equal("v2", newBody.GetProperty("version").GetString());
        Assert.Equal(60, newBody.GetProperty("activity_idle_timeout").GetInt32());
        var tasks = emulator.Requests.Where(r => r.Path == "/v1/streaming.task").Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
        Assert.Equal(["repeat", "talk", "repeat", "repeat"], tasks.Select(t => t.GetProperty("task_type").GetString()));
        Assert.Equal(["sync", "sync"], tasks.Take(2).Select(t => t.GetProperty("task_mode").GetString()));

        var refused = Parse(result.Line("refused"));
        AssertRefused(refused.GetProperty("closed"), 400, 10006, "Session is closed");
        AssertRefused(refused.GetProperty("token"), 401, 400112, "Unauthorized");
        AssertRefused(refused.GetProperty("avatar"), 400, 10013, "avatar not found");
    }

    private static void AssertRefused(JsonElement error, int status, int code, string message)
    {
        Assert.Equal("APIError", error.GetProperty("name").GetString());
        Assert.Equal($"API request failed with status {status}", error.GetProperty("message").GetString());
        Assert.Equal(status, error.GetProperty("status").GetInt32());
        Assert.Equal(code, error.GetProperty("body").GetProperty("code").GetInt32());
        Assert.Equal(message, error.GetProperty("body").GetProperty("message").GetString());
    }

    private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
