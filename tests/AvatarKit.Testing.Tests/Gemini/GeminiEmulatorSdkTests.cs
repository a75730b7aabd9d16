using AvatarKit.Testing.Gemini;

namespace AvatarKit.Testing.Tests.Gemini;

/// <summary>
/// Google's own JS SDK (<c>@google/genai</c>) against the emulator. Runs when
/// <c>GOOGLE_GENAI_SDK_DIR</c> names a directory where <c>npm install @google/genai</c> was run.
/// </summary>
public sealed class GeminiEmulatorSdkTests
{
    private const string Script = """
        import { GoogleGenAI } from "@google/genai";
        const baseUrl = process.argv[2];
        for (const apiVersion of [undefined, "v1beta"]) {
          const ai = new GoogleGenAI({ apiKey: "emulator-gemini-key", apiVersion, httpOptions: { baseUrl } });
          const r = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "Hello there", config: { systemInstruction: "Be kind." } });
          console.log(`unary ${r.text} | ${r.candidates[0].finishReason} | ${r.usageMetadata.totalTokenCount > 0}`);
          let chunks = 0, text = "", last;
          for await (const c of await ai.models.generateContentStream({ model: "gemini-2.5-flash", contents: "Tell me about the sea" })) { chunks++; text += c.text ?? ""; last = c; }
          console.log(`stream ${chunks > 1} | ${text} | ${last.candidates[0].finishReason}`);
          const f = await ai.models.generateContent({ model: "gemini-2.5-flash", contents: "Weather?", config: { tools: [{ functionDeclarations: [{ name: "get_weather" }] }] } });
          console.log(`call ${JSON.stringify(f.functionCalls)}`);
          let n = 0; for await (const m of await ai.models.list()) n++;
          console.log(`models ${n}`);
        }
        try { await new GoogleGenAI({ apiKey: "bad", httpOptions: { baseUrl } }).models.generateContent({ model: "gemini-2.5-flash", contents: "x" }); }
        catch (e) { console.log(`error ${e.constructor.name} ${e.status}`); }
        """;

    [Fact]
    public async Task Official_js_sdk_round_trips_against_the_emulator()
    {
        var sdkDir = NodeSdkScript.RequireSdk("GOOGLE_GENAI_SDK_DIR", "@google/genai");
        var ct = TestContext.Current.CancellationToken;
        await using var emulator = await GeminiEmulator.StartAsync(new GeminiEmulatorOptions { TimeToFirstToken = TimeSpan.Zero, TokensPerSecond = 0 }, ct);
        emulator.AddRule(r => r.DeclaredFunctions.Contains("get_weather") ? GeminiEmulatorAnswer.FromFunctionCall("get_weather", """{"city":"Paris"}""") : null);

        var result = await NodeSdkScript.RunAsync(sdkDir, Script, [emulator.BaseUrl.ToString()], TimeSpan.FromSeconds(60), ct);
        var lines = result.Lines;

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal(2, lines.Count(l => l == "unary You said: Hello there. This is the Gemini emulator answering. | STOP | true"));
        Assert.Equal(2, lines.Count(l => l == "stream true | You said: Tell me about the sea. This is the Gemini emulator answering. | STOP"));
        Assert.Equal(2, lines.Count(l => l == """call [{"name":"get_weather","args":{"city":"Paris"}}]"""));
        Assert.Equal(2, lines.Count(l => l == $"models {emulator.Options.Models.Count}"));
        Assert.Contains("error ApiError 400", lines);
        Assert.Contains(emulator.Requests, r => r.Path.StartsWith("/v1/", StringComparison.Ordinal));
        Assert.Contains(emulator.Requests, r => r.Path.StartsWith("/v1beta/", StringComparison.Ordinal));
    }
}
