using System.Text.Json;
using AvatarKit.LiveKit;
using AvatarKit.Testing.LiveAvatar;
using AvatarKit.Testing.Tests.LiveKit;

namespace AvatarKit.Testing.Tests.LiveAvatar;

/// <summary>
/// HeyGen's own LiveAvatar web SDK (<c>@heygen/liveavatar-web-sdk</c> 0.0.18, a browser SDK over
/// livekit-client, run in Node.js with <c>@roamhq/wrtc</c>) against the emulator: its session API
/// client on the REST endpoints, and <c>LiveAvatarSession</c> end to end with the avatar's room in
/// the fake LiveKit server. Runs when <c>LIVEAVATAR_SDK_DIR</c> names a directory where the SDK was
/// installed with npm.
/// </summary>
public sealed class LiveAvatarEmulatorSdkTests(FakeLiveKitServerFixture fixture) : IClassFixture<FakeLiveKitServerFixture>
{
    // The SDK's SessionAPIClient (its `sessionClient`) against the REST endpoints: no room is joined.
    private const string RestScript = NodeSdkScript.BrowserGlobals + """
        const { LiveAvatarSession } = await import("@heygen/liveavatar-web-sdk");
        const [apiUrl, apiKey, avatarId] = process.argv.slice(2);
        const print = (name, value) => console.log(`${name} ${JSON.stringify(value)}`);
        const errorOf = e => ({ name: e?.constructor?.name, message: e?.message, errorCode: e?.errorCode, status: e?.status });
        const tokenFor = async mode => {
          const response = await fetch(`${apiUrl}/v1/sessions/token`, { method: "POST", headers: { "X-API-KEY": apiKey, "Content-Type": "application/json" },
            body: JSON.stringify({ mode, avatar_id: avatarId, is_sandbox: true }) });
          return (await response.json()).data.session_token;
        };

        for (const mode of ["FULL", "LITE"]) {
          const session = new LiveAvatarSession(await tokenFor(mode), { apiUrl });
          const client = session.sessionClient;
          const start = await client.startSession();
          const keepAlive = await client.keepAlive();
          const stop = await client.stopSession();
          let again = null;
          try { await client.startSession(); } catch (e) { again = errorOf(e); }
          print(mode, { sdkMode: session.mode, agentType: session.agentType, start, keepAlive, stop, again });
        }

        try { await new LiveAvatarSession("not-a-session-token", { apiUrl }).sessionClient.startSession(); }
        catch (e) { print("refused", errorOf(e)); }
        """;

    private const string SessionScript = NodeSdkScript.BrowserGlobals + """
        const { LiveAvatarSession, SessionEvent, AgentEventsEnum } = await import("@heygen/liveavatar-web-sdk");
        const [apiUrl, apiKey, avatarId, mode] = process.argv.slice(2);
        const print = (name, value) => console.log(`${name} ${JSON.stringify(value)}`);
        const within = (promise, what, ms = 30000) => Promise.race([promise,
          new Promise((_, reject) => setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms).unref())]);
        const api = async (method, path, body) => {
          const response = await fetch(`${apiUrl}${path}`, { method, headers: { "X-API-KEY": apiKey, "Content-Type": "application/json" }, body: body && JSON.stringify(body) });
          return (await response.json()).data;
        };

        const { session_token: token } = await api("POST", "/v1/sessions/token", { mode, avatar_id: avatarId, is_sandbox: true });
        const session = new LiveAvatarSession(token, { apiUrl });
        const events = [];
        const waiters = [];
        const record = (type, payload) => {
          events.push({ type, source: payload?.source_event_id ?? null, text: payload?.text ?? null, reason: typeof payload === "string" ? payload : null });
          for (const w of [...waiters]) if (w.match(type, payload)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(payload); }
        };
        const next = (type, source, what) => within(new Promise(resolve =>
          waiters.push({ match: (t, p) => t === type && (source === undefined || p?.source_event_id === source), resolve })), what ?? `${type} ${source ?? ""}`);
        for (const type of Object.values(AgentEventsEnum)) session.on(type, p => record(type, p));
        for (const type of [SessionEvent.SESSION_STREAM_READY, SessionEvent.SESSION_DISCONNECTED]) session.on(type, p => record(type, p));

        // What the SDK receives from the avatar participant, decoded by the WebRTC stack.
        const media = { videoFrames: 0, width: 0, height: 0, audioSamples: 0 };
        const streamReady = next(SessionEvent.SESSION_STREAM_READY);
        session.room.on("trackSubscribed", (track, _publication, participant) => {
          if (participant.identity !== "heygen") return;
          if (track.kind === "video") {
            const sink = new wrtc.nonstandard.RTCVideoSink(track.mediaStreamTrack);
            sink.onframe = ({ frame }) => { media.videoFrames++; media.width = frame.width; media.height = frame.height; };
          } else {
            const sink = new wrtc.nonstandard.RTCAudioSink(track.mediaStreamTrack);
            sink.ondata = data => { media.audioSamples += data.numberOfFrames; };
          }
        });

        await within(session.start(), "start", 45000);
        print("started", { state: session.state, mode: session.mode, sessionId: session.sessionId, maxSessionDuration: session.maxSessionDuration,
          participants: [...session.room.remoteParticipants.values()].map(p => p.identity).sort() });
        await streamReady;

        if (mode === "FULL") {
          // repeat: spoken verbatim; message: the avatar's LLM answers it.
          const repeatId = session.repeat("Hello from the official LiveAvatar SDK.");
          await next(AgentEventsEnum.AVATAR_SPEAK_ENDED, repeatId);
          const messageId = session.message("What is the weather like?");
          await next(AgentEventsEnum.AVATAR_SPEAK_ENDED, messageId);
          // A long answer (about a minute of speech) interrupted once it started: the next one is not queued behind it.
          const longId = session.repeat("This sentence goes on and on. ".repeat(30));
          await next(AgentEventsEnum.AVATAR_SPEAK_STARTED, longId);
          session.interrupt();
          await next(AgentEventsEnum.AVATAR_SPEAK_ENDED, longId, "the interrupted answer's end");
          const afterId = session.repeat("After the interruption.");
          await next(AgentEventsEnum.AVATAR_SPEAK_ENDED, afterId, "the next answer, not queued behind the interrupted one");
          print("commands", { repeatId, messageId, longId, afterId });
        } else {
          // LITE: our own audio (PCM16 24 kHz, base64) goes over the session's WebSocket.
          const tone = Buffer.alloc(24000 * 2);
          for (let i = 0; i < tone.length / 2; i++) tone.writeInt16LE(Math.round(8000 * Math.sin(2 * Math.PI * 220 * i / 24000)), i * 2);
          session.repeatAudio(tone.toString("base64"));
          await next(AgentEventsEnum.AVATAR_SPEAK_STARTED);
          await next(AgentEventsEnum.AVATAR_SPEAK_ENDED);
          session.startListening();
          session.stopListening();
          session.interrupt();
        }

        print("media", media);
        const disconnected = next(SessionEvent.SESSION_DISCONNECTED);
        await session.stop();
        await disconnected;
        // stop() asks the API to stop the session without waiting for the answer: wait until the API reports it stopped.
        const stopped = Date.now();
        while (!(await api("GET", `/v1/sessions/${session.sessionId ?? ""}`))?.end_at) {
          if (Date.now() - stopped > 30000) throw new Error("the session is still active 30 s after stop()");
          await new Promise(r => setTimeout(r, 50));
        }
        print("events", events);
        print("stopped", { state: session.state });
        process.exit(0);
        """;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_sdk_session_client_starts_keeps_alive_and_stops_and_reports_refusals_as_SessionApiError()
    {
        var sdkDir = RequireSdk();
        var rooms = new InProcessRoomServer();
        await using var emulator = await LiveAvatarEmulator.StartAsync(new InProcessRoomHost(rooms), cancellationToken: Token);

        var result = await RunAsync(sdkDir, RestScript, emulator, null);

        foreach (var mode in new[] { "FULL", "LITE" })
        {
            var run = Parse(result.Line(mode));
            Assert.Equal(mode, run.GetProperty("sdkMode").GetString()); // read from the session token, as the SDK does
            var start = run.GetProperty("start");
            Assert.True(Guid.TryParse(start.GetProperty("session_id").GetString(), out _));
            Assert.False(string.IsNullOrEmpty(start.GetProperty("livekit_url").GetString()));
            Assert.False(string.IsNullOrEmpty(start.GetProperty("livekit_client_token").GetString()));
            Assert.Equal(60, start.GetProperty("max_session_duration").GetInt32()); // a sandbox session
            Assert.Equal(mode == "LITE", start.TryGetProperty("ws_url", out _));
            Assert.Equal(JsonValueKind.Null, run.GetProperty("keepAlive").ValueKind);
            Assert.Equal(JsonValueKind.Null, run.GetProperty("stop").ValueKind);
            AssertRefused(run.GetProperty("again"), 400, "Session was stopped");
        }

        AssertRefused(Parse(result.Line("refused")), 401, "Invalid or expired session token");
        Assert.Equal(0, emulator.OpenSessionCount);
        Assert.All(emulator.Requests.Where(r => r.Path.StartsWith("/v1/sessions/", StringComparison.Ordinal) && r.Path != "/v1/sessions/token"), r => Assert.Equal("bearer", r.AuthScheme));
    }

    [Theory]
    [InlineData("FULL")]
    [InlineData("LITE")]
    public async Task A_LiveAvatarSession_joins_the_room_makes_the_avatar_speak_and_stops_the_session(string mode)
    {
        var sdkDir = RequireSdk();
        Assert.SkipWhen(FakeLiveKitServer.UnavailableReason is not null, FakeLiveKitServer.UnavailableReason ?? string.Empty);
        Assert.SkipUnless(LiveKitRoomConnector.CheckNativeLibrary().IsAvailable, "LiveKit's native library (the emulated avatar's connection) was not fetched by the build.");
        var server = fixture.Server!;
        // A sandbox session lasts a minute; this one must not end under a slow machine.
        await using var emulator = await LiveAvatarEmulator.StartAsync(server, new LiveAvatarEmulatorOptions { SandboxSessionDuration = TimeSpan.FromMinutes(5) }, Token);

        var result = await RunAsync(sdkDir, SessionScript, emulator, mode);

        var started = Parse(result.Line("started"));
        Assert.Equal("CONNECTED", started.GetProperty("state").GetString());
        Assert.Equal(mode, started.GetProperty("mode").GetString());
        var sessionId = started.GetProperty("sessionId").GetString()!;
        string[] participants = mode == "FULL" ? ["heygen", LiveAvatarEmulator.AgentIdentityPrefix + sessionId] : ["heygen"];
        Assert.Equal(participants, started.GetProperty("participants").EnumerateArray().Select(p => p.GetString()));

        // Real video and audio from the avatar, decoded on the SDK's side.
        var media = Parse(result.Line("media"));
        Assert.True(media.GetProperty("videoFrames").GetInt32() > 0, "video frames decoded");
        Assert.Equal(320, media.GetProperty("width").GetInt32());
        Assert.Equal(240, media.GetProperty("height").GetInt32());
        Assert.True(media.GetProperty("audioSamples").GetInt32() > 0, "audio decoded");

        var events = Parse(result.Line("events")).EnumerateArray().Select(e => (Type: e.GetProperty("type").GetString(), Source: e.GetProperty("source").GetString(), Text: e.GetProperty("text").GetString())).ToList();
        Assert.Equal("session.stream_ready", events[0].Type);
        Assert.Equal(("session.disconnected", null, null), events[^1]);
        Assert.Equal("CLIENT_INITIATED", Parse(result.Line("events"))[events.Count - 1].GetProperty("reason").GetString());
        Assert.Equal("DISCONNECTED", Parse(result.Line("stopped")).GetProperty("state").GetString());
        if (mode == "FULL")
        {
            AssertFullConversation(events, Parse(result.Line("commands")));
        }
        else
        {
            Assert.Equal(["avatar.speak_started", "avatar.speak_ended"], events.Select(e => e.Type).Where(t => t!.StartsWith("avatar.", StringComparison.Ordinal)));
            var sent = emulator.LiteMessages.Select(m => m.Type).Distinct().ToList();
            Assert.Equal(["agent.speak", "agent.speak_end", "agent.start_listening", "agent.stop_listening", "agent.interrupt"], sent);
        }

        // stop() stopped the session on the API with the session token; the avatar left the room.
        Assert.Equal(0, emulator.OpenSessionCount);
        Assert.Contains(emulator.Requests, r => r.Path == "/v1/sessions/stop" && r.AuthScheme == "bearer");
    }

    private static void AssertFullConversation(List<(string? Type, string? Source, string? Text)> events, JsonElement commands)
    {
        string Id(string name) => commands.GetProperty(name).GetString()!;
        List<string?> For(string id) => [.. events.Where(e => e.Source == id).Select(e => e.Type)];

        Assert.Equal(["avatar.transcription", "avatar.speak_started", "avatar.speak_ended"], For(Id("repeatId")));
        Assert.Contains(events, e => e.Source == Id("repeatId") && e.Text == "Hello from the official LiveAvatar SDK.");
        Assert.Equal(["user.transcription", "avatar.transcription", "avatar.speak_started", "avatar.speak_ended"], For(Id("messageId")));
        Assert.Contains(events, e => e.Source == Id("messageId") && e.Type == "user.transcription" && e.Text == "What is the weather like?");
        Assert.Equal(["avatar.transcription", "avatar.speak_started", "avatar.speak_ended"], For(Id("longId")));
        Assert.Equal(["avatar.transcription", "avatar.speak_started", "avatar.speak_ended"], For(Id("afterId")));
    }

    private static void AssertRefused(JsonElement error, int status, string message)
    {
        Assert.Equal("SessionApiError", error.GetProperty("name").GetString());
        Assert.Equal(status, error.GetProperty("status").GetInt32());
        Assert.Equal(status, error.GetProperty("errorCode").GetInt32()); // the envelope's code
        Assert.Equal(message, error.GetProperty("message").GetString());
    }

    private static string RequireSdk()
    {
        NodeSdkScript.RequireSdk("LIVEAVATAR_SDK_DIR", "@roamhq/wrtc");
        return NodeSdkScript.RequireSdk("LIVEAVATAR_SDK_DIR", "@heygen/liveavatar-web-sdk");
    }

    private static async Task<NodeScriptResult> RunAsync(string sdkDir, string script, LiveAvatarEmulator emulator, string? mode)
    {
        string[] arguments = [emulator.BaseUrl.ToString().TrimEnd('/'), emulator.ApiKey, LiveAvatarEmulatorOptions.SandboxAvatarId, .. mode is null ? Array.Empty<string>() : [mode]];
        var result = await NodeSdkScript.RunAsync(sdkDir, script, arguments, TimeSpan.FromSeconds(90), Token);
        Assert.True(result.ExitCode == 0, $"node exited {result.ExitCode}: {result.Error}\n{string.Join('\n', result.Lines)}");
        return result;
    }

    private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
