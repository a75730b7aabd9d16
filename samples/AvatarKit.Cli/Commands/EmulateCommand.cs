using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using AvatarKit.Cli.Hosting;
using AvatarKit.Testing;
using AvatarKit.Testing.Sandbox;
using Spectre.Console;

namespace AvatarKit.Cli.Commands;

/// <summary>
/// <c>emulate</c>: starts every emulator on loopback, prints their base URLs and the environment
/// variables that point AvatarKit (or any other client) at them, and runs until Ctrl+C. With
/// <c>--json</c> the first line of stdout is one JSON object: emulator name → <c>{ baseUrl, apiKey }</c>.
/// Ports are free ones the OS picks unless chosen (<c>--base-port</c>, <c>--deepgram-port</c>…).
/// </summary>
internal static class EmulateCommand
{
    private static readonly (string Name, string UrlVariable, string KeyVariable)[] Variables =
    [
        ("liveavatar", "LIVEAVATAR_BASE_URL", "LIVEAVATAR_API_KEY"),
        ("heygen", "HEYGEN_BASE_URL", "HEYGEN_API_KEY"),
        ("deepgram", "DEEPGRAM_BASE_URL", "DEEPGRAM_API_KEY"),
        ("gemini", "GEMINI_BASE_URL", "GEMINI_API_KEY"),
        ("livekit", "LIVEKIT_URL", "LIVEKIT_API_KEY"),
    ];

    public static Command Create(GlobalOptions global)
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object (emulator → base URL and API key) as the first line of stdout." };
        var liveKit = new Option<bool>("--livekit") { Description = "Also start a fake LiveKit server (needs Node.js) and put the avatars' rooms in it, so any LiveKit client can join." };
        var basePort = PortOption("--base-port", "Put the emulators on consecutive ports from this one, in the order liveavatar, heygen, deepgram, gemini, livekit (default: free ports the OS picks).", IPEndPoint.MaxPort - (Variables.Length - 1));
        var ports = Variables.Select(v => PortOption($"--{v.Name}-port", $"The {v.Name} emulator's port (overrides --base-port).", IPEndPoint.MaxPort)).ToArray();
        var videoSize = new Option<string>("--video-size")
        {
            Description = "The emulated avatars' video size, WIDTHxHEIGHT (even numbers). 640x360 keeps CPU low; 1280x720 is what LiveAvatar sends.",
            DefaultValueFactory = _ => "640x360",
        };
        videoSize.Validators.Add(result =>
        {
            if (ParseVideoSize(result.GetValueOrDefault<string>()) is null)
            {
                result.AddError("--video-size must be WIDTHxHEIGHT with even numbers from 16 to 3840, e.g. 1280x720.");
            }
        });
        var command = new Command("emulate", "Start local emulators of LiveAvatar, HeyGen Streaming, Deepgram and Gemini and print how to use them; runs until Ctrl+C.") { json, liveKit, basePort, videoSize };
        foreach (var port in ports)
        {
            command.Options.Add(port);
        }

        command.SetAction((parse, ct) =>
        {
            var first = parse.GetValue(basePort);
            var chosen = Variables.Select((v, i) => parse.GetValue(ports[i]) ?? (first is { } b ? b + i : 0)).ToArray();
            var size = ParseVideoSize(parse.GetValue(videoSize))!.Value;
            return CommandRunner.RunAsync(parse, global, env => RunAsync(parse.GetValue(json), parse.GetValue(liveKit), chosen, size, env, ct));
        });
        return command;
    }

    private static Option<int?> PortOption(string name, string description, int max)
    {
        var option = new Option<int?>(name) { Description = description };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is { } port && (port < 1 || port > max))
            {
                result.AddError($"{name} must be between 1 and {max}.");
            }
        });
        return option;
    }

    private static (int Width, int Height)? ParseVideoSize(string? value)
    {
        var parts = value?.Split('x') ?? [];
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var width)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var height)
            && IsVideoDimension(width) && IsVideoDimension(height)
            ? (width, height)
            : null;

        // I420 needs even dimensions; beyond 4K the emulated avatar only burns CPU.
        static bool IsVideoDimension(int pixels) => pixels is >= 16 and <= 3840 && pixels % 2 == 0;
    }

    private static async Task<int> RunAsync(bool json, bool liveKit, int[] ports, (int Width, int Height) videoSize, CliEnvironment environment, CancellationToken cancellationToken)
    {
        if (liveKit && FakeLiveKitServer.UnavailableReason is { } reason)
        {
            throw new CliException($"The fake LiveKit server cannot start: {reason}", ExitCodes.Failed);
        }

        var sandboxOptions = new SandboxOptions { HeyGenStreaming = true, VideoWidth = videoSize.Width, VideoHeight = videoSize.Height };
        (sandboxOptions.Ports.LiveAvatar, sandboxOptions.Ports.HeyGen, sandboxOptions.Ports.Deepgram, sandboxOptions.Ports.Gemini) = (ports[0], ports[1], ports[2], ports[3]);
        FakeLiveKitServer? liveKitServer = null;
        AvatarKitSandbox sandbox;
        try
        {
            liveKitServer = liveKit ? await FakeLiveKitServer.StartAsync(ports[4], environment.LoggerFactory, cancellationToken) : null;
            sandboxOptions.Rooms = liveKitServer;
            sandbox = await AvatarKitSandbox.StartAsync(sandboxOptions, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            if (liveKitServer is not null)
            {
                await liveKitServer.DisposeAsync();
            }

            // Kestrel reports a taken port as an IOException ("address already in use").
            throw new CliException($"The emulators could not start: {ex.Message}", ExitCodes.Failed, ex);
        }

        await using var ownedLiveKit = liveKitServer;
        await using var ownedSandbox = sandbox;
        var endpoints = new Dictionary<string, SandboxEndpoint>(sandbox.Endpoints, StringComparer.Ordinal);
        if (liveKitServer is not null)
        {
            endpoints["livekit"] = new SandboxEndpoint(liveKitServer.Url, liveKitServer.ApiKey) { ApiSecret = liveKitServer.ApiSecret };
        }

        if (json)
        {
            var map = new JsonObject();
            foreach (var (name, _, _) in Variables)
            {
                map[name] = endpoints.TryGetValue(name, out var endpoint)
                    ? new JsonObject { ["baseUrl"] = endpoint.BaseUrl.ToString(), ["apiKey"] = endpoint.ApiKey, ["apiSecret"] = endpoint.ApiSecret }
                    : null;
            }

            // Raw stdout, first line, one object: scripts read it before anything else.
            Console.Out.WriteLine(map.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
            await Console.Out.FlushAsync(cancellationToken);
        }

        var table = new Table().Border(TableBorder.Rounded).AddColumn("emulator").AddColumn("base URL").AddColumn("API key");
        foreach (var (name, _, _) in Variables)
        {
            table.AddRow(name, endpoints.TryGetValue(name, out var e) ? Markup.Escape(e.BaseUrl.ToString()) : "[grey]not started (--livekit)[/]", endpoints.TryGetValue(name, out e) ? Markup.Escape(e.ApiKey) : "–");
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("Point AvatarKit (or any client) at them:");
        foreach (var (name, urlVariable, keyVariable) in Variables)
        {
            if (endpoints.TryGetValue(name, out var e))
            {
                AnsiConsole.WriteLine($"export {urlVariable}={e.BaseUrl} {keyVariable}={e.ApiKey}");
            }
        }

        if (liveKitServer is not null)
        {
            AnsiConsole.WriteLine($"export LIVEKIT_API_SECRET={liveKitServer.ApiSecret}");
        }

        AnsiConsole.MarkupLine($"[grey]Avatar rooms are {(liveKitServer is null ? "in-process (--livekit puts them in a fake LiveKit server)" : "in the fake LiveKit server")}; the avatar ({videoSize.Width}x{videoSize.Height}) speaks with {Markup.Escape(sandbox.VoiceDescription)}. Press Ctrl+C to stop.[/]");
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        AnsiConsole.MarkupLine("[grey]emulators stopped[/]");
        return ExitCodes.Ok;
    }
}
