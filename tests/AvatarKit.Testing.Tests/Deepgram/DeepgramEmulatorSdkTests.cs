using System.Text.Json;
using AvatarKit.Testing.Deepgram;
using AvatarKit.Testing.Voice;

namespace AvatarKit.Testing.Tests.Deepgram;

/// <summary>
/// Deepgram's own JS SDK (<c>@deepgram/sdk</c> 5.13.0) against the emulator, with real speech from
/// espeak-ng. Runs when <c>DEEPGRAM_SDK_DIR</c> names a directory where the SDK was installed with npm.
/// </summary>
public sealed class DeepgramEmulatorSdkTests : IAsyncLifetime
{
    private const string Sentence = "Hello avatar, what is the weather like today?";

    // Each check prints one line "<name> <json>"; the test asserts on the JSON.
    private const string Script = """
        import { DeepgramClient } from "@deepgram/sdk";
        import { createReadStream } from "fs";
        import { readFile } from "fs/promises";
        const [baseUrl, apiKey, pcmPath, wavPath] = process.argv.slice(2);
        const client = new DeepgramClient({ apiKey, baseUrl });
        const print = (name, value) => console.log(`${name} ${JSON.stringify(value)}`);
        const errorOf = e => ({ name: e?.constructor?.name, status: e?.statusCode, message: e?.message, body: e?.body });

        // Pre-recorded first: the test makes the emulator answer its first request with 429 + Retry-After
        // (a Buffer body, since the SDK cannot re-send a consumed stream when it retries).
        const file = await client.listen.v1.media.transcribeFile(await readFile(wavPath), { model: "nova-3", punctuate: true });
        const streamed = await client.listen.v1.media.transcribeFile(createReadStream(wavPath), { model: "nova-3" });
        const alt = file.results.channels[0].alternatives[0];
        print("prerecorded", { transcript: alt.transcript, streamed: streamed.results.channels[0].alternatives[0].transcript, words: alt.words.length, duration: file.metadata.duration, models: file.metadata.models.length });

        // Live: real speech, then silence, then Finalize, then CloseStream.
        const live = await client.listen.v1.connect({ model: "nova-3", language: "en", encoding: "linear16", sample_rate: 16000,
          interim_results: "true", vad_events: "true", utterance_end_ms: "1000", endpointing: 300, punctuate: "true", keyterm: ["avatar", "weather"] });
        const messages = [];
        let finalized, closed;
        const finalizedP = new Promise(r => finalized = r), closedP = new Promise(r => closed = r);
        live.on("message", m => { messages.push(m); if (m.type === "Results" && m.from_finalize) finalized(); });
        live.on("close", e => closed(e?.code));
        live.on("error", e => print("live-error", errorOf(e)));
        live.connect();
        await live.waitForOpen();
        const pcm = await readFile(pcmPath);
        for (let i = 0; i < pcm.length; i += 640) {
          live.sendMedia(pcm.subarray(i, i + 640));
          if (i % 32000 === 0) await new Promise(r => setTimeout(r, 1));
        }
        live.sendKeepAlive({ type: "KeepAlive" });
        const endOfSpeech = Date.now();
        while (!messages.some(m => m.type === "UtteranceEnd") && Date.now() - endOfSpeech < 10000) await new Promise(r => setTimeout(r, 20));
        live.sendFinalize({ type: "Finalize" });
        await finalizedP;
        live.sendCloseStream({ type: "CloseStream" });
        const closeCode = await closedP;
        print("live", { closeCode, messages: messages.map(m => ({ type: m.type, is_final: m.is_final, speech_final: m.speech_final, from_finalize: m.from_finalize,
          start: m.start, duration: m.duration, timestamp: m.timestamp, last_word_end: m.last_word_end,
          transcript: m.channel?.alternatives?.[0]?.transcript, words: m.channel?.alternatives?.[0]?.words?.map(w => [w.start, w.end]) })) });

        // Live with no encoding: Deepgram detects the container (a WAV file, sent in odd-sized chunks).
        const wavLive = await client.listen.v1.connect({ model: "nova-3", punctuate: "true" });
        const wavFinals = [];
        let wavClosed;
        const wavClosedP = new Promise(r => wavClosed = r);
        wavLive.on("error", e => print("live-wav-error", errorOf(e)));
        wavLive.on("message", m => { if (m.type === "Results" && m.is_final && m.channel.alternatives[0].transcript) wavFinals.push(m.channel.alternatives[0].transcript); });
        wavLive.on("close", e => wavClosed(e?.code));
        wavLive.connect();
        await wavLive.waitForOpen();
        const wavFile = await readFile(wavPath);
        for (let i = 0; i < wavFile.length; i += 999) wavLive.sendMedia(wavFile.subarray(i, i + 999));
        wavLive.sendCloseStream({ type: "CloseStream" });
        print("live-wav", { closeCode: await wavClosedP, finals: wavFinals });
        wavLive.close(); // no SDK redial, whatever the close code was

        // Aura REST: raw PCM and a WAV container.
        const raw = Buffer.from(await (await client.speak.v1.audio.generate({ text: "Hello there.", model: "aura-2-thalia-en", encoding: "linear16", container: "none", sample_rate: 16000 })).arrayBuffer());
        const wav = Buffer.from(await (await client.speak.v1.audio.generate({ text: "Hello there.", model: "aura-2-thalia-en", encoding: "linear16", sample_rate: 24000 })).arrayBuffer());
        // The SDK's default request (no encoding) is MP3, which the emulator encodes with ffmpeg when installed.
        let mp3 = Buffer.alloc(0);
        try { mp3 = Buffer.from(await (await client.speak.v1.audio.generate({ text: "Hello there." })).arrayBuffer()); }
        catch (e) { print("mp3-refused", errorOf(e)); }
        print("speak-rest", { raw: raw.length, wav: wav.length, riff: wav.subarray(0, 4).toString(), mp3: mp3.length, mp3Head: mp3.subarray(0, 3).toString("hex") });

        // Aura WebSocket, with a temporary token (Bearer) from /v1/auth/grant.
        const grant = await client.auth.v1.tokens.grant();
        const speak = await new DeepgramClient({ accessToken: grant.access_token, baseUrl }).speak.v1.connect({ model: "aura-2-thalia-en", encoding: "linear16", sample_rate: 16000 });
        const events = [];
        let audio = 0, flushed, speakClosed;
        const flushedP = new Promise(r => flushed = r), speakClosedP = new Promise(r => speakClosed = r);
        speak.on("message", m => {
          if (m?.type) { events.push(`${m.type}${m.sequence_id ?? ""}`); if (m.type === "Flushed" && m.sequence_id === 1) flushed(); }
          else { audio += m.size; if (events.at(-1) !== "audio") events.push("audio"); }
        });
        speak.on("close", e => speakClosed(e?.code));
        speak.connect();
        await speak.waitForOpen();
        speak.sendText({ type: "Speak", text: "Hello there." });
        speak.sendFlush({ type: "Flush" });
        speak.sendText({ type: "Speak", text: "Second sentence." });
        speak.sendFlush({ type: "Flush" });
        await flushedP;
        speak.sendText({ type: "Speak", text: "Never spoken, as it is cleared before its sentence ends" });
        speak.sendClear({ type: "Clear" });
        speak.sendClose({ type: "Close" });
        print("speak-socket", { closeCode: await speakClosedP, audio, events });

        // Refusals as the SDK reports them.
        try { await new DeepgramClient({ apiKey: "wrong", baseUrl }).listen.v1.media.transcribeFile(await readFile(wavPath), { model: "nova-3" }); }
        catch (e) { print("rest-refused", errorOf(e)); }
        const refused = await new DeepgramClient({ apiKey: "wrong", baseUrl }).listen.v1.connect({ model: "nova-3", encoding: "linear16", sample_rate: 16000, reconnectAttempts: 0 });
        refused.on("error", () => {});
        refused.connect();
        try { await refused.waitForOpen(); print("socket-refused", { opened: true }); }
        catch (e) { print("socket-refused", { message: e?.message }); }
        refused.close();
        """;

    private DeepgramEmulator _emulator = null!;

    public async ValueTask InitializeAsync() => _emulator = await DeepgramEmulator.StartAsync(o => o.Transcripts.Add(Sentence), Token);

    public async ValueTask DisposeAsync() => await _emulator.DisposeAsync();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Official_js_sdk_transcribes_live_and_prerecorded_speech_and_synthesizes_over_rest_and_the_socket()
    {
        var sdkDir = NodeSdkScript.RequireSdk("DEEPGRAM_SDK_DIR", "@deepgram/sdk");
        Assert.SkipUnless(EspeakTextToSpeechClient.IsAvailable, "espeak-ng is not installed; the SDK check sends real speech.");
        var directory = Directory.CreateTempSubdirectory("avatarkit-dg-sdk-");
        try
        {
            var pcmPath = Path.Combine(directory.FullName, "speech.pcm");
            var wavPath = Path.Combine(directory.FullName, "speech.wav");
            await File.WriteAllBytesAsync(pcmPath, await SpokenWav.SynthesizePcmAsync(Sentence, 16_000, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2.5), Token), Token);
            await SpokenWav.WriteAsync(wavPath, Sentence, 16_000, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(0.5), Token);
            _emulator.Options.Faults.FailNextHandshakes(429);

            var result = await NodeSdkScript.RunAsync(sdkDir, Script, [_emulator.BaseUrl.ToString(), _emulator.ApiKey, pcmPath, wavPath], TimeSpan.FromSeconds(60), Token);

            Assert.True(result.ExitCode == 0, $"node exited {result.ExitCode}: {result.Error}\n{string.Join('\n', result.Lines)}\nemulator: {string.Join('\n', _emulator.EventLog)}");
            AssertPrerecorded(Parse(result.Line("prerecorded")));
            AssertLive(Parse(result.Line("live")));
            var liveWav = Parse(result.Line("live-wav"));
            Assert.Equal(1000, liveWav.GetProperty("closeCode").GetInt32());
            Assert.Equal([Sentence], liveWav.GetProperty("finals").EnumerateArray().Select(f => f.GetString()));
            AssertSpeak(Parse(result.Line("speak-rest")), Parse(result.Line("speak-socket")), await SpokenWav.SynthesizePcmAsync("Hello there.", 16_000, cancellationToken: Token));
            var rest = Parse(result.Line("rest-refused"));
            Assert.Equal(401, rest.GetProperty("status").GetInt32());
            Assert.Equal("INVALID_AUTH", rest.GetProperty("body").GetProperty("err_code").GetString());
            Assert.Contains("401", Parse(result.Line("socket-refused")).GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.DoesNotContain("live-error", result.Lines.Select(l => l.Split(' ')[0]));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private void AssertPrerecorded(JsonElement prerecorded)
    {
        // The SDK retried the injected 429 after the Retry-After second and then succeeded.
        Assert.Contains(_emulator.EventLog, e => e.Contains("429", StringComparison.Ordinal));
        Assert.Equal(Sentence, prerecorded.GetProperty("transcript").GetString());
        Assert.Equal("hello avatar what is the weather like today", prerecorded.GetProperty("streamed").GetString());
        Assert.Equal(8, prerecorded.GetProperty("words").GetInt32());
        Assert.Equal(1, prerecorded.GetProperty("models").GetInt32());
    }

    private static void AssertLive(JsonElement live)
    {
        Assert.Equal(1000, live.GetProperty("closeCode").GetInt32());
        var messages = live.GetProperty("messages").EnumerateArray().ToList();
        string Type(JsonElement m) => m.GetProperty("type").GetString()!;

        // Deepgram's order: speech started, interim results, the final with speech_final, utterance end,
        // the Finalize answer, and Metadata last (after CloseStream).
        Assert.Equal("SpeechStarted", Type(messages[0]));
        var speechStarted = messages[0].GetProperty("timestamp").GetDouble();
        Assert.InRange(speechStarted, 0.9, 1.2);
        var results = messages.Where(m => Type(m) == "Results").ToList();
        var finalIndex = results.FindIndex(m => m.GetProperty("is_final").GetBoolean() && m.GetProperty("speech_final").GetBoolean());
        Assert.True(finalIndex > 0, "interim results come before the final one");
        Assert.All(results.Take(finalIndex), m => Assert.False(m.GetProperty("is_final").GetBoolean()));
        Assert.Equal(Sentence, results[finalIndex].GetProperty("transcript").GetString());
        Assert.True(results[^1].GetProperty("from_finalize").GetBoolean());
        Assert.Equal(
            ["SpeechStarted", "Results", "UtteranceEnd", "Results", "Metadata"],
            messages.Select(Type).Where((t, i) => i == 0 || t != Type(messages[i - 1])).ToList());

        // Times are seconds of audio; windows follow one another and words never go back in time.
        var words = results[finalIndex].GetProperty("words").EnumerateArray().Select(w => (Start: w[0].GetDouble(), End: w[1].GetDouble())).ToList();
        Assert.Equal(8, words.Count);
        Assert.True(words[0].Start >= speechStarted - 1e-6);
        Assert.All(words.Zip(words.Skip(1)), p => Assert.True(p.First.End <= p.Second.Start + 1e-6 && p.First.Start < p.First.End));
        var finals = results.Where(m => m.GetProperty("is_final").GetBoolean()).ToList();
        Assert.Equal(finals[0].GetProperty("start").GetDouble() + finals[0].GetProperty("duration").GetDouble(), finals[1].GetProperty("start").GetDouble(), 3);
        var utteranceEnd = messages.Single(m => Type(m) == "UtteranceEnd").GetProperty("last_word_end").GetDouble();
        Assert.Equal(words[^1].End, utteranceEnd, 3);
    }

    private static void AssertSpeak(JsonElement rest, JsonElement socket, byte[] expectedPcm)
    {
        Assert.Equal(expectedPcm.Length, rest.GetProperty("raw").GetInt32());
        Assert.Equal("RIFF", rest.GetProperty("riff").GetString());
        if (FfmpegInstalled)
        {
            // An ID3 tag or an MPEG audio frame sync.
            Assert.True(rest.GetProperty("mp3").GetInt32() > 1000);
            Assert.Matches("^(494433|fff)", rest.GetProperty("mp3Head").GetString());
        }
        Assert.Equal(1000, socket.GetProperty("closeCode").GetInt32());
        Assert.True(socket.GetProperty("audio").GetInt32() > expectedPcm.Length, "both flushed sentences were spoken");
        Assert.Equal(["Metadata", "audio", "Flushed0", "audio", "Flushed1", "Cleared0"], socket.GetProperty("events").EnumerateArray().Select(e => e.GetString()).ToList());
    }

    private static bool FfmpegInstalled =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Any(d => File.Exists(Path.Combine(d, "ffmpeg")));

    private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
