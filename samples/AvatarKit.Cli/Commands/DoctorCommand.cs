using System.CommandLine;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using AvatarKit.Cli.Hosting;
using AvatarKit.Speech.Capture;
using Microsoft.Extensions.DependencyInjection;
using Spectre.Console;

namespace AvatarKit.Cli.Commands;

/// <summary>
/// <c>doctor</c>: checks every service (key present and valid, endpoint reachable, model and avatar
/// exist), FFmpeg, audio capture, the LiveKit native library and the output directory, in a table
/// with what to do. Exits 1 when something required fails (an invalid key is always a failure; a
/// missing key only with <c>--require-keys</c>, since the sandbox stands in otherwise).
/// </summary>
internal static class DoctorCommand
{
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(15);

    public static Command Create(GlobalOptions global)
    {
        var requireKeys = new Option<bool>("--require-keys") { Description = "Fail when an API key is missing (instead of using the sandbox)." };
        var command = new Command("doctor", "Check API keys, service reachability, FFmpeg, audio capture and the LiveKit native library.") { requireKeys };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, global, env => RunAsync(env, parse.GetValue(requireKeys), ct)));
        return command;
    }

    private static async Task<int> RunAsync(CliEnvironment environment, bool requireKeys, CancellationToken cancellationToken)
    {
        var checks = new List<Check>
        {
            new("configuration", Status.Info, environment.EnvFile is null ? "no .env file; using the environment" : $"read {environment.EnvFile}", null, Required: false),
        };
        using var http = new HttpClient { Timeout = CheckTimeout };
        await AnsiConsole.Status().StartAsync("Checking…", async _ =>
        {
            checks.Add(await CheckLiveAvatarAsync(environment, requireKeys, cancellationToken));
            checks.Add(await CheckDeepgramAsync(http, requireKeys, cancellationToken));
            checks.Add(await CheckGeminiAsync(http, requireKeys, cancellationToken));
            checks.Add(CheckOptionalKey("HeyGen Streaming (legacy)", "HEYGEN_API_KEY", "only for accounts that still expose the v1 Streaming API"));
            checks.Add(await CheckFfmpegAsync(cancellationToken));
            checks.Add(await CheckCaptureAsync(cancellationToken));
            checks.Add(CheckLiveKitLibrary(required: CliEnvironment.Get("LIVEAVATAR_API_KEY") is not null));
            checks.Add(CheckEspeak());
            checks.Add(CheckOutputDirectory(environment.OutputDirectory));
        });

        var table = new Table().Border(TableBorder.Rounded).AddColumn("").AddColumn("check").AddColumn("result").AddColumn("what to do");
        foreach (var c in checks)
        {
            var mark = c.Status switch
            {
                Status.Ok => "[green]✓[/]",
                Status.Failed when c.Required => "[red]✗[/]",
                Status.Failed => "[yellow]✗[/]",
                _ => "[grey]–[/]",
            };
            table.AddRow(mark, Markup.Escape(c.Name), Markup.Escape(c.Detail), Markup.Escape(c.Fix ?? string.Empty));
        }

        AnsiConsole.Write(table);
        var failed = checks.Where(c => c.Status == Status.Failed && c.Required).ToList();
        if (failed.Count > 0)
        {
            AnsiConsole.MarkupLine($"[red]✗ {failed.Count} required check(s) failed: {Markup.Escape(string.Join(", ", failed.Select(f => f.Name)))}[/]");
            return ExitCodes.Failed;
        }

        AnsiConsole.MarkupLine("[green]✓ everything required is in place[/]");
        return ExitCodes.Ok;
    }

    private static Check MissingKey(string name, string variable, bool requireKeys, string sandbox) =>
        new(name, requireKeys ? Status.Failed : Status.Info, $"{variable} not set; {sandbox}", $"set {variable} in .env to use the real service", Required: requireKeys);

    private static async Task<Check> CheckLiveAvatarAsync(CliEnvironment environment, bool requireKeys, CancellationToken cancellationToken)
    {
        const string Name = "HeyGen LiveAvatar";
        if (CliEnvironment.Get("LIVEAVATAR_API_KEY") is null)
        {
            return MissingKey(Name, "LIVEAVATAR_API_KEY", requireKeys, "the sandbox avatar is used");
        }

        var services = new ServiceCollection();
        services.AddAvatarKit(o => o.OutputDirectory = environment.OutputDirectory)
            .AddLiveAvatar(o => o.BaseUrl = CliEnvironment.GetUrl("LIVEAVATAR_BASE_URL") ?? o.BaseUrl);
        await using var provider = services.BuildServiceProvider();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CheckTimeout);
        try
        {
            var service = provider.GetRequiredService<IAvatarService>();
            var avatars = await service.ListAvatarsAsync(timeout.Token);
            var sessions = await service.ListActiveSessionsAsync(timeout.Token);
            var detail = $"key valid, {avatars.Count} avatars, {sessions.Count} active session(s); credit balance is not exposed by the API";
            if (CliEnvironment.Get("DEFAULT_AVATAR_ID") is { } avatarId && avatars.All(a => a.Id != avatarId))
            {
                return new Check(Name, Status.Failed, $"{detail}; DEFAULT_AVATAR_ID '{avatarId}' is not among them", "run 'avatarkit avatars' and pick an id", Required: true);
            }

            return new Check(Name, Status.Ok, detail, sessions.Count > 0 ? "'avatarkit sessions close-all' frees the concurrency slots" : null, Required: true);
        }
        catch (AvatarApiException ex) when (ex.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            return new Check(Name, Status.Failed, $"key rejected ({(int)ex.StatusCode!}): {ex.ProviderMessage ?? ex.Message}", "check LIVEAVATAR_API_KEY (app.liveavatar.com → API keys)", Required: true);
        }
        catch (Exception ex) when (ex is AvatarApiException or HttpRequestException or OperationCanceledException or Microsoft.Extensions.Options.OptionsValidationException)
        {
            return new Check(Name, Status.Failed, $"unreachable or refused: {ex.Message}", "check the network and LIVEAVATAR_BASE_URL", Required: true);
        }
    }

    private static async Task<Check> CheckDeepgramAsync(HttpClient http, bool requireKeys, CancellationToken cancellationToken)
    {
        const string Name = "Deepgram";
        if (CliEnvironment.Get("DEEPGRAM_API_KEY") is not { } key)
        {
            return MissingKey(Name, "DEEPGRAM_API_KEY", requireKeys, "voice input uses the Deepgram emulator");
        }

        var baseUrl = CliEnvironment.GetUrl("DEEPGRAM_BASE_URL") ?? new Uri("https://api.deepgram.com");
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, "v1/auth/grant")) { Content = JsonContent.Create(new { ttl_seconds = 30 }) };
        request.Headers.TryAddWithoutValidation("Authorization", $"Token {key}");
        return await HttpCheckAsync(http, request, Name, "key valid (a temporary token was granted)", "check DEEPGRAM_API_KEY (console.deepgram.com → API keys)", cancellationToken);
    }

    private static async Task<Check> CheckGeminiAsync(HttpClient http, bool requireKeys, CancellationToken cancellationToken)
    {
        const string Name = "Google Gemini";
        if (CliEnvironment.Get("GEMINI_API_KEY") is not { } key)
        {
            return MissingKey(Name, "GEMINI_API_KEY", requireKeys, "the sandbox's scripted chat is used");
        }

        var baseUrl = CliEnvironment.GetUrl("GEMINI_BASE_URL") ?? new Uri("https://generativelanguage.googleapis.com");
        var model = CliEnvironment.Get("GEMINI_MODEL") ?? "gemini-flash-lite-latest";
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUrl, $"v1beta/models/{Uri.EscapeDataString(model)}"));
        request.Headers.TryAddWithoutValidation("x-goog-api-key", key);
        var check = await HttpCheckAsync(http, request, Name, $"key valid, model {model} exists", "check GEMINI_API_KEY (aistudio.google.com/apikey)", cancellationToken);
        return check.Detail.StartsWith("404", StringComparison.Ordinal)
            ? check with { Detail = $"model {model} not found", Fix = "set GEMINI_MODEL to a model your key can use" }
            : check;
    }

    private static async Task<Check> HttpCheckAsync(HttpClient http, HttpRequestMessage request, string name, string okDetail, string keyFix, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return new Check(name, Status.Ok, okDetail, null, Required: true);
            }

            var status = (int)response.StatusCode;
            return status is 400 or 401 or 403
                ? new Check(name, Status.Failed, $"key rejected ({status})", keyFix, Required: true)
                : new Check(name, Status.Failed, $"{status} {response.ReasonPhrase}", status == 429 ? "quota or rate limit reached; wait or raise the plan" : "try again later", Required: true);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return new Check(name, Status.Failed, $"unreachable: {ex.Message}", $"check the network and {request.RequestUri!.Host}", Required: true);
        }
    }

    private static Check CheckOptionalKey(string name, string variable, string purpose) =>
        CliEnvironment.Get(variable) is null
            ? new Check(name, Status.Info, $"{variable} not set ({purpose})", null, Required: false)
            : new Check(name, Status.Ok, $"{variable} set ({purpose})", null, Required: false);

    private static async Task<Check> CheckFfmpegAsync(CancellationToken cancellationToken)
    {
        var (ok, output) = await RunAsync("ffmpeg", "-hide_banner -version", cancellationToken);
        return ok
            ? new Check("FFmpeg", Status.Ok, output.Split('\n')[0].Trim(), null, Required: true)
            : new Check("FFmpeg", Status.Failed, "not found", "install it: sudo apt-get install ffmpeg (recording needs it)", Required: true);
    }

    private static async Task<Check> CheckCaptureAsync(CancellationToken cancellationToken)
    {
        try
        {
            // FFmpeg's listing is quiet; PortAudio's probing prints ALSA noise, so only when FFmpeg is missing.
            var devices = FfmpegAudioInput.IsAvailable
                ? await new FfmpegAudioInput().ListDevicesAsync(cancellationToken)
                : await Microphone.ListDevicesAsync(cancellationToken);
            return devices.Count > 0
                ? new Check("audio capture", Status.Ok, string.Join(", ", devices.Take(4).Select(d => $"{d.Description} ({d.Backend})")), null, Required: false)
                : new Check("audio capture", Status.Failed, "no capture device found", "connect a microphone or start PulseAudio (voice input only; text chat works without)", Required: false);
        }
        catch (AudioInputException ex)
        {
            return new Check("audio capture", Status.Failed, ex.Message, "voice input only; text chat works without", Required: false);
        }
    }

    private static Check CheckLiveKitLibrary(bool required)
    {
        var name = OperatingSystem.IsWindows() ? "livekit_ffi.dll" : OperatingSystem.IsMacOS() ? "liblivekit_ffi.dylib" : "liblivekit_ffi.so";
        var configured = CliEnvironment.Get("AVATARKIT_LIVEKIT_FFI_PATH");
        var found = configured is not null && File.Exists(configured)
            ? configured
            : Directory.EnumerateFiles(AppContext.BaseDirectory, name, SearchOption.AllDirectories).FirstOrDefault();
        if (found is null)
        {
            return new Check("LiveKit native library", Status.Failed, $"{name} not found", "rebuild (the build fetches it from npm) or set AVATARKIT_LIVEKIT_FFI_PATH; needed for real avatars only", Required: required);
        }

        if (!System.Runtime.InteropServices.NativeLibrary.TryLoad(found, out var handle))
        {
            return new Check("LiveKit native library", Status.Failed, $"{found} does not load on this system", "check the platform (glibc, architecture) or set AVATARKIT_LIVEKIT_FFI_PATH", Required: required);
        }

        System.Runtime.InteropServices.NativeLibrary.Free(handle);
        return new Check("LiveKit native library", Status.Ok, $"loads: {found}", null, Required: required);
    }

    private static Check CheckEspeak()
    {
        var path = Environment.GetEnvironmentVariable("PATH")?.Split(Path.PathSeparator).Select(p => Path.Combine(p, "espeak-ng")).FirstOrDefault(File.Exists);
        return path is not null
            ? new Check("espeak-ng", Status.Ok, "the sandbox avatar speaks real words", null, Required: false)
            : new Check("espeak-ng", Status.Info, "not installed; the sandbox avatar speaks synthetic tones", "sudo apt-get install espeak-ng", Required: false);
    }

    private static Check CheckOutputDirectory(string directory)
    {
        try
        {
            var probe = Path.Combine(directory, $".doctor-{Environment.ProcessId}");
            File.WriteAllText(probe, "ok");
            File.Delete(probe);
            return new Check("output directory", Status.Ok, $"{directory} is writable", null, Required: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new Check("output directory", Status.Failed, $"{directory}: {ex.Message}", "set OUTPUT_DIR to a writable directory", Required: true);
        }
    }

    private static async Task<(bool Ok, string Output)> RunAsync(string file, string arguments, CancellationToken cancellationToken)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (process is null)
            {
                return (false, string.Empty);
            }

            var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            return (process.ExitCode == 0, output);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return (false, string.Empty);
        }
    }

    private enum Status
    {
        Ok,
        Failed,
        Info,
    }

    private sealed record Check(string Name, Status Status, string Detail, string? Fix, bool Required);
}
