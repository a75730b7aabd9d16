using System.Text.Json;
using AvatarKit.LiveKit;
using AvatarKit.Testing.Streaming;
using AvatarKit.Testing.Tests.LiveKit;

namespace AvatarKit.Testing.Tests.Streaming;

/// <summary>
/// HeyGen's own Streaming API v1 SDK (<c>@heygen/streaming-avatar</c> 2.1.0, the last version that
/// ships code; a browser SDK over livekit-client, run in Node.js with <c>@roamhq/wrtc</c>) against the
/// emulator: its REST calls one by one, and <c>StreamingAvatar</c> end to end with the avatar's room in
/// the fake LiveKit server. Runs when <c>HEYGEN_STREAMING_SDK_DIR</c> names a directory where the SDK
/// was installed with npm.
/// </summary>
public sealed class StreamingEmulatorSdkTests(FakeLiveKitServerFixture fixture) : IClassFixture<FakeLiveKitServerFixture>
{
    // The SDK's REST calls, each through its own method; no room is joined.
    private const string RestScript = NodeSdkScript.BrowserGlobals + """
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

    // StreamingAvatar end to end: createStartAvatar joins the room in the fake LiveKit server and opens the voice-chat socket.
    private const string SessionScript = NodeSdkScript.BrowserGlobals + """
        const { default: StreamingAvatar, StreamingEvents, TaskType, TaskMode, AvatarQuality } = await import("@heygen/streaming-avatar/lib/index.esm.js");
        const [basePath, apiKey, avatarName] = process.argv.slice(2);
        const print = (name, value) => console.log(`${name} ${JSON.stringify(value)}`);
        const within = (promise, what, ms = 30000) => Promise.race([promise,
          new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms).unref())]);
        // The SDK opens its voice-chat socket at wss://<API host>/v1/ws/streaming.chat, on port 443 as for api.heygen.com:
        // route it to the emulator's port, as DNS and TLS termination in front of the real API would.
        const api = new URL(basePath);
        globalThis.WebSocket = class extends NodeWebSocket {
          constructor(url, ...rest) { super(String(url).replace(`wss://${api.hostname}/`, `ws://${api.host}/`), ...rest); }
        };
        const created = await fetch(`${basePath}/v1/streaming.create_token`, { method: "POST", headers: { "x-api-key": apiKey } });
        const { data: { token } } = await created.json();

        const avatar = new StreamingAvatar({ token, basePath });
        // Every event, in order; `next` resolves with the first matching one not taken yet, even if it already arrived
        // (a synchronous task returns after its events).
        const events = [];
        const waiters = [];
        const take = (w, e) => { e.taken = true; waiters.splice(waiters.indexOf(w), 1); w.resolve(e.detail); };
        const record = (type, detail) => {
          const e = { type, detail, taken: false };
          events.push(e);
          const w = waiters.find(w => w.match(e));
          if (w) take(w, e);
        };
        const next = (type, match, what) => within(new Promise(resolve => {
          const w = { match: e => !e.taken && e.type === type && (!match || match(e.detail)), resolve };
          waiters.push(w);
          const e = events.find(w.match);
          if (e) take(w, e);
        }), what ?? type);
        for (const type of Object.values(StreamingEvents)) avatar.on(type, e => record(type, type === StreamingEvents.STREAM_READY ? null : e.detail));

        const ready = next(StreamingEvents.STREAM_READY);
        const session = await within(avatar.createStartAvatar({ avatarName, quality: AvatarQuality.Low }), "createStartAvatar", 45000);
        await ready;
        // What the SDK receives from the avatar, decoded by the WebRTC stack.
        const media = { videoFrames: 0, width: 0, height: 0, audioSamples: 0 };
        const videoSink = new wrtc.nonstandard.RTCVideoSink(avatar.mediaStream.getVideoTracks()[0]);
        videoSink.onframe = ({ frame }) => { media.videoFrames++; media.width = frame.width; media.height = frame.height; };
        const audioSink = new wrtc.nonstandard.RTCAudioSink(avatar.mediaStream.getAudioTracks()[0]);
        audioSink.ondata = data => { media.audioSamples += data.numberOfFrames; };

        // repeat over REST, synchronously: the events of its task arrive on the room's data channel.
        const repeat = await avatar.speak({ text: "Hello from the official streaming SDK.", taskType: TaskType.REPEAT, taskMode: TaskMode.SYNC });
        await next(StreamingEvents.AVATAR_STOP_TALKING, d => d.task_id === repeat.task_id, "the repeat task's end");
        // talk (async, the SDK's default) goes over the voice-chat socket as a protobuf text frame.
        const talkEnded = next(StreamingEvents.AVATAR_STOP_TALKING, null, "the talk task's end");
        const talk = await avatar.speak({ text: "How are you?" });
        const talkTask = (await talkEnded).task_id;
        // A long task, interrupted once it started; the next one is not queued behind it.
        const long = await avatar.speak({ text: "This sentence goes on and on. ".repeat(30), taskType: TaskType.REPEAT });
        await next(StreamingEvents.AVATAR_START_TALKING, d => d.task_id === long.task_id, "the long task's start");
        await avatar.interrupt();
        await next(StreamingEvents.AVATAR_STOP_TALKING, d => d.task_id === long.task_id, "the interrupted task's end");
        const after = await within(avatar.speak({ text: "After the interruption.", taskType: TaskType.REPEAT, taskMode: TaskMode.SYNC }), "the next task, not queued behind the interrupted one");
        await avatar.keepAlive();
        print("media", media);

        await avatar.stopAvatar();
        const disconnected = next(StreamingEvents.STREAM_DISCONNECTED);
        await avatar.room.disconnect(); // stopAvatar leaves the room to the application
        await disconnected;
        print("tasks", { sessionId: session.session_id, repeat: repeat.task_id, talk: talk ?? null, talkTask, long: long.task_id, after: after.task_id });
        print("events", events.map(e => ({ type: e.type, task: e.detail?.task_id ?? null, message: e.detail?.message ?? null })));
        process.exit(0);
        """;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_sdk_creates_starts_drives_and_stops_a_session_and_reports_refusals_with_the_provider_envelope()
    {
        var sdkDir = RequireSdk();
        var rooms = new InProcessRoomServer();
        await using var emulator = await StreamingEmulator.StartAsync(new InProcessRoomHost(rooms), cancellationToken: Token);

        var result = await NodeSdkScript.RunAsync(
            sdkDir, RestScript, [emulator.BaseUrl.ToString().TrimEnd('/'), emulator.ApiKey, StreamingEmulatorOptions.AvatarId], TimeSpan.FromSeconds(90), Token);

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

    [Fact]
    public async Task A_StreamingAvatar_joins_the_room_speaks_over_rest_and_the_voice_chat_socket_is_interrupted_and_stops()
    {
        var sdkDir = RequireSdk();
        Assert.SkipWhen(FakeLiveKitServer.UnavailableReason is not null, FakeLiveKitServer.UnavailableReason ?? string.Empty);
        Assert.SkipUnless(LiveKitRoomConnector.CheckNativeLibrary().IsAvailable, "LiveKit's native library (the emulated avatar's connection) was not fetched by the build.");
        await using var emulator = await StreamingEmulator.StartAsync(fixture.Server!, cancellationToken: Token);

        var result = await NodeSdkScript.RunAsync(
            sdkDir, SessionScript, [emulator.BaseUrl.ToString().TrimEnd('/'), emulator.ApiKey, StreamingEmulatorOptions.AvatarId], TimeSpan.FromSeconds(90), Token);

        Assert.True(result.ExitCode == 0, $"node exited {result.ExitCode}: {result.Error}\n{string.Join('\n', result.Lines)}");
        var media = Parse(result.Line("media"));
        Assert.True(media.GetProperty("videoFrames").GetInt32() > 0, "video frames decoded");
        Assert.Equal(320, media.GetProperty("width").GetInt32());
        Assert.Equal(240, media.GetProperty("height").GetInt32());
        Assert.True(media.GetProperty("audioSamples").GetInt32() > 0, "audio decoded");

        var tasks = Parse(result.Line("tasks"));
        Assert.Equal(JsonValueKind.Null, tasks.GetProperty("talk").ValueKind); // sent on the socket: no REST answer
        var events = Parse(result.Line("events")).EnumerateArray()
            .Select(e => (Type: e.GetProperty("type").GetString(), Task: e.GetProperty("task").GetString(), Message: e.GetProperty("message").GetString())).ToList();
        Assert.Equal("stream_ready", events[0].Type);
        Assert.Equal("stream_disconnected", events[^1].Type);
        List<string?> For(string name) => [.. events.Where(e => e.Task == tasks.GetProperty(name).GetString()).Select(e => e.Type)];
        string[] task = ["avatar_end_message", "avatar_start_talking", "avatar_stop_talking", "avatar_talking_message"];
        Assert.All(new[] { "repeat", "talkTask", "long", "after" }, name =>
        {
            var types = For(name);
            Assert.Equal(task, types.Order(StringComparer.Ordinal));
            Assert.True(types.IndexOf("avatar_start_talking") < types.IndexOf("avatar_stop_talking"), string.Join(", ", types));
        });
        Assert.Contains(events, e => e.Task == tasks.GetProperty("repeat").GetString() && e.Message == "Hello from the official streaming SDK.");
        Assert.Contains(events, e => e.Task == tasks.GetProperty("talkTask").GetString() && e.Message == "You said: How are you?");

        // No REST task for the talk: it came over the voice-chat socket. stopAvatar closed the session.
        Assert.Equal(3, emulator.Requests.Count(r => r.Path == "/v1/streaming.task"));
        Assert.Equal(0, emulator.OpenSessionCount);
    }

    private static string RequireSdk()
    {
        NodeSdkScript.RequireSdk("HEYGEN_STREAMING_SDK_DIR", "@roamhq/wrtc");
        return NodeSdkScript.RequireSdk("HEYGEN_STREAMING_SDK_DIR", "@heygen/streaming-avatar");
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
