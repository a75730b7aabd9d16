using System.Diagnostics;

namespace AvatarKit.Speech.Tests.Capture;

/// <summary>
/// A private PulseAudio virtual microphone for one test (null sink + remap source, as build.sh makes
/// <c>vmic</c>), so that parallel test projects using <c>vmic</c> cannot leak sound into it.
/// </summary>
internal sealed class VirtualMicrophone : IAsyncDisposable
{
    private readonly List<string> _modules = [];

    private VirtualMicrophone(string name)
    {
        Source = name;
        Sink = name + "_sink";
    }

    public string Source { get; }

    public string Sink { get; }

    /// <summary>Why the capture tests cannot run here, or null when they can.</summary>
    public static async Task<string?> MissingPrerequisiteAsync()
    {
        foreach (var tool in new[] { "ffmpeg", "pactl", "paplay", "espeak-ng" })
        {
            if (Find(tool) is null)
            {
                return $"{tool} is not installed (build.sh installs ffmpeg, pulseaudio-utils and espeak-ng)";
            }
        }

        var (exit, _) = await RunAsync("pactl", "info");
        return exit == 0 ? null : "no PulseAudio server is running (build.sh starts one with a virtual microphone)";
    }

    public static async Task<VirtualMicrophone> CreateAsync()
    {
        var microphone = new VirtualMicrophone("akspeech_" + Guid.NewGuid().ToString("N")[..8]);
        await microphone.LoadAsync($"module-null-sink sink_name={microphone.Sink} rate=16000 channels=1");
        await microphone.LoadAsync($"module-remap-source master={microphone.Sink}.monitor source_name={microphone.Source}");
        return microphone;
    }

    /// <summary>Plays a WAV file into the microphone; returns when playback has started.</summary>
    public Process Play(string wavPath)
    {
        var process = Process.Start(new ProcessStartInfo("paplay") { ArgumentList = { "-d", Sink, wavPath }, UseShellExecute = false })!;
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        for (var i = _modules.Count - 1; i >= 0; i--)
        {
            await RunAsync("pactl", $"unload-module {_modules[i]}");
        }
    }

    private async Task LoadAsync(string arguments)
    {
        var (exit, output) = await RunAsync("pactl", "load-module " + arguments);
        if (exit != 0)
        {
            throw new InvalidOperationException($"pactl load-module {arguments} failed: {output}");
        }

        _modules.Add(output.Trim());
    }

    private static string? Find(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator).Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);

    private static async Task<(int Exit, string Output)> RunAsync(string fileName, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(fileName, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output + error);
    }
}
