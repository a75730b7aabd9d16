using System.Diagnostics;

namespace AvatarKit.Testing.Tests;

/// <summary>
/// Runs an ES-module script with Node.js next to a provider's official JS SDK, for the emulator
/// checks. The SDK directory comes from an environment variable that <c>build.sh</c> exports after
/// installing the pinned SDKs; the test skips with a reason when it is absent.
/// </summary>
internal static class NodeSdkScript
{
    /// <summary>
    /// Script lines that give Node.js the browser globals LiveKit's browser SDK (livekit-client, under
    /// HeyGen's SDKs) uses: WebRTC from <c>@roamhq/wrtc</c>, WebSocket from <c>ws</c>, a navigator and a window.
    /// Import the SDK with a dynamic <c>import()</c> after them, so they exist when its modules load.
    /// Browser bundlers also take webrtc-issue-detector's ES module build (its <c>module</c> field), where
    /// Node.js would take its CommonJS build, whose default export is not the class the SDKs construct.
    /// </summary>
    public const string BrowserGlobals = """
        import wrtc from "@roamhq/wrtc";
        import { WebSocket as NodeWebSocket } from "ws";
        import { register } from "node:module";
        register("data:text/javascript," + encodeURIComponent(`
          export async function resolve(specifier, context, next) {
            const resolved = await next(specifier, context);
            return specifier === "webrtc-issue-detector" ? { url: resolved.url.replace(/bundle-cjs\\.js$/, "bundle-esm.js"), format: "module", shortCircuit: true } : resolved;
          }`));
        for (const name of ["RTCPeerConnection", "RTCSessionDescription", "RTCIceCandidate", "MediaStream", "MediaStreamTrack", "RTCDataChannel"]) globalThis[name] = wrtc[name];
        // A browser logs an unhandled promise rejection and carries on, where Node.js would exit: livekit-client
        // leaves some uncaught (a trickled ICE candidate it could not add, its track stats timer, as node-webrtc
        // has no per-receiver stats). The checks below wait for outcomes, so a real failure still fails them.
        const rejections = new Set();
        process.on("unhandledRejection", e => { if (!rejections.has(String(e?.message ?? e))) console.error("unhandled rejection:", e); rejections.add(String(e?.message ?? e)); });
        globalThis.WebSocket = NodeWebSocket;
        globalThis.navigator ??= { userAgent: "Node.js" };
        globalThis.window ??= Object.assign(new EventTarget(), { RTCPeerConnection: wrtc.RTCPeerConnection, navigator: globalThis.navigator });

        """;

    /// <summary>Returns the SDK directory named by <paramref name="environmentVariable"/>, or skips the test.</summary>
    /// <param name="environmentVariable">For example <c>DEEPGRAM_SDK_DIR</c>.</param>
    /// <param name="package">The npm package that must be installed there, for example <c>@deepgram/sdk</c>.</param>
    public static string RequireSdk(string environmentVariable, string package)
    {
        var sdkDir = Environment.GetEnvironmentVariable(environmentVariable);
        Assert.SkipUnless(
            sdkDir is not null && File.Exists(Path.Combine(sdkDir, "node_modules", package, "package.json")),
            $"Set {environmentVariable} to a directory with node_modules/{package} (./build.sh test installs it with npm) to run the SDK check.");
        return sdkDir!;
    }

    /// <summary>Runs <paramref name="script"/> in <paramref name="sdkDir"/> (so its imports resolve) and returns its exit code and output lines.</summary>
    /// <param name="sdkDir">The directory holding <c>node_modules</c>.</param>
    /// <param name="script">The ES-module source.</param>
    /// <param name="arguments">Arguments, read by the script from <c>process.argv.slice(2)</c>.</param>
    /// <param name="timeout">How long the script may run before it is killed (exit code -1).</param>
    /// <param name="cancellationToken">Cancels the run (the process is killed).</param>
    public static async Task<NodeScriptResult> RunAsync(string sdkDir, string script, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var path = Path.Combine(sdkDir, $"avatarkit-emulator-check-{Guid.NewGuid():N}.mjs");
        await File.WriteAllTextAsync(path, script, cancellationToken);
        try
        {
            var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = sdkDir };
            start.ArgumentList.Add(path);
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            using var node = Process.Start(start)!;
            try
            {
                var output = node.StandardOutput.ReadToEndAsync(cancellationToken);
                var error = node.StandardError.ReadToEndAsync(cancellationToken);
                var exitCode = -1;
                try
                {
                    await node.WaitForExitAsync(cancellationToken).WaitAsync(timeout, cancellationToken);
                    exitCode = node.ExitCode;
                }
                catch (TimeoutException)
                {
                    // Killed below; what it printed so far says where it hung.
                    node.Kill(entireProcessTree: true);
                }

                return new NodeScriptResult(exitCode, (await output).Split('\n', StringSplitOptions.RemoveEmptyEntries), await error);
            }
            finally
            {
                if (!node.HasExited)
                {
                    node.Kill(entireProcessTree: true);
                }
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}

/// <summary>What a Node script printed.</summary>
/// <param name="ExitCode">The process exit code.</param>
/// <param name="Lines">Standard output, split into non-empty lines.</param>
/// <param name="Error">Standard error.</param>
internal sealed record NodeScriptResult(int ExitCode, IReadOnlyList<string> Lines, string Error)
{
    /// <summary>Returns the rest of the line that starts with <paramref name="prefix"/> and a space; fails the test when there is none.</summary>
    public string Line(string prefix) =>
        Lines.FirstOrDefault(l => l.StartsWith(prefix + " ", StringComparison.Ordinal))?[(prefix.Length + 1)..]
        ?? throw new Xunit.Sdk.XunitException($"No '{prefix}' line in the script output:\n{string.Join('\n', Lines)}\n{Error}");
}
