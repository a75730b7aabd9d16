using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace AvatarKit.Speech.Capture;

/// <summary>
/// Microphone capture through an <c>ffmpeg</c> process: PulseAudio (or PipeWire's pulse server) on
/// Linux, AVFoundation on macOS, DirectShow on Windows. FFmpeg converts to the requested format and
/// writes raw PCM16 to its standard output, read here in 20 ms frames.
/// </summary>
/// <remarks>Each <see cref="CaptureAsync"/> starts its own process, stopped when the enumeration ends.</remarks>
public sealed class FfmpegAudioInput : IAudioInput
{
    private const int StderrTailLength = 2000;
    private readonly string? _device;
    private readonly string _inputFormat;
    private readonly string _ffmpeg;

    /// <summary>Initializes a new FFmpeg capture.</summary>
    /// <param name="device">
    /// The device: a PulseAudio source name (<c>pactl list short sources</c>), an AVFoundation audio device
    /// name or index, a DirectShow device name; the system default when null (on Windows the first device).
    /// </param>
    /// <param name="inputFormat">FFmpeg's input device (<c>pulse</c>, <c>alsa</c>, <c>avfoundation</c>, <c>dshow</c>); the platform's when null.</param>
    /// <param name="ffmpegPath">The ffmpeg executable; <c>ffmpeg</c> on the PATH by default.</param>
    public FfmpegAudioInput(string? device = null, string? inputFormat = null, string ffmpegPath = "ffmpeg")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(ffmpegPath);
        _device = device;
        _inputFormat = inputFormat ?? (OperatingSystem.IsWindows() ? "dshow" : OperatingSystem.IsMacOS() ? "avfoundation" : "pulse");
        _ffmpeg = ffmpegPath;
    }

    /// <inheritdoc />
    public string Name => $"ffmpeg {_inputFormat} {_device ?? "default"}";

    /// <summary>Gets a value indicating whether an <c>ffmpeg</c> executable is on the PATH.</summary>
    public static bool IsAvailable => ProcessTools.Find("ffmpeg") is not null;

    /// <inheritdoc />
    public async IAsyncEnumerable<AudioFrame> CaptureAsync(AudioFormat format, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(_ffmpeg)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in await BuildArgumentsAsync(format, cancellationToken).ConfigureAwait(false))
        {
            startInfo.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new AudioInputException("ffmpeg could not be started.");
        }
        catch (Win32Exception ex)
        {
            throw new AudioInputException(
                $"FFmpeg was not found ('{_ffmpeg}'). Install it: apt-get install ffmpeg (Debian/Ubuntu), brew install ffmpeg (macOS), winget install ffmpeg (Windows), or use PortAudioInput.", ex);
        }

        var stderr = new StringBuilder();
        var stderrTask = DrainAsync(process.StandardError, stderr);
        var stdout = process.StandardOutput.BaseStream;
        var frameBytes = format.GetByteCount(TimeSpan.FromMilliseconds(20));
        long position = 0;
        try
        {
            while (true)
            {
                var frame = AudioFrame.Rent(format, frameBytes, format.GetDuration((int)Math.Min(position, int.MaxValue)));
                int read;
                try
                {
                    read = await stdout.ReadAtLeastAsync(frame.Memory, frameBytes, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    frame.Dispose();
                    throw;
                }

                if (read < frameBytes)
                {
                    frame.Dispose();
                    await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                    await stderrTask.ConfigureAwait(false);
                    if (process.ExitCode != 0)
                    {
                        throw new AudioInputException(Describe(stderr.ToString()));
                    }

                    yield break;
                }

                position += read;
                yield return frame;
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            process.Dispose();
        }
    }

    /// <summary>Lists capture devices this backend can open (best effort: the tools' output formats vary).</summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The devices.</returns>
    public async Task<IReadOnlyList<AudioDevice>> ListDevicesAsync(CancellationToken cancellationToken = default)
    {
        if (_inputFormat == "pulse")
        {
            var (_, output, _) = await ProcessTools.RunAsync("pactl", ["list", "short", "sources"], cancellationToken).ConfigureAwait(false);
            return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => line.Split('\t'))
                .Where(columns => columns.Length > 1)
                .Select(columns => new AudioDevice(columns[1], columns.Length > 3 ? $"{columns[1]} ({columns[3]})" : columns[1], "ffmpeg-pulse"))
                .ToList();
        }

        // avfoundation and dshow print devices on stderr and exit non-zero.
        var dummy = _inputFormat == "avfoundation" ? string.Empty : "dummy";
        var (_, _, error) = await ProcessTools.RunAsync(_ffmpeg, ["-hide_banner", "-f", _inputFormat, "-list_devices", "true", "-i", dummy], cancellationToken).ConfigureAwait(false);
        var devices = new List<AudioDevice>();
        var audioSection = _inputFormat == "dshow";
        foreach (var line in error.Split('\n'))
        {
            if (line.Contains("audio devices", StringComparison.OrdinalIgnoreCase))
            {
                audioSection = true;
                continue;
            }

            if (line.Contains("video devices", StringComparison.OrdinalIgnoreCase))
            {
                audioSection = false;
                continue;
            }

            var start = line.IndexOf('"', StringComparison.Ordinal);
            var end = line.LastIndexOf('"');
            if (audioSection && start >= 0 && end > start && (_inputFormat != "dshow" || line.Contains("(audio)", StringComparison.Ordinal)))
            {
                var name = line[(start + 1)..end];
                devices.Add(new AudioDevice(name, name, "ffmpeg-" + _inputFormat));
            }
            else if (audioSection && _inputFormat == "avfoundation" && line.IndexOf("] [", StringComparison.Ordinal) is var bracket and >= 0)
            {
                var name = line[(line.IndexOf(']', bracket + 2) + 1)..].Trim();
                devices.Add(new AudioDevice(name, name, "ffmpeg-avfoundation"));
            }
        }

        return devices;
    }

    private async Task<List<string>> BuildArgumentsAsync(AudioFormat format, CancellationToken cancellationToken)
    {
        var rate = format.SampleRate.ToString(CultureInfo.InvariantCulture);
        var channels = format.Channels.ToString(CultureInfo.InvariantCulture);
        var arguments = new List<string> { "-hide_banner", "-loglevel", "error", "-nostdin" };
        switch (_inputFormat)
        {
            case "pulse":
                // fragment_size is what sets pulse's latency: one 20 ms frame (see the capture spec).
                arguments.AddRange(["-f", "pulse", "-sample_rate", rate, "-channels", channels, "-fragment_size", format.GetByteCount(TimeSpan.FromMilliseconds(20)).ToString(CultureInfo.InvariantCulture), "-wallclock", "0", "-i", _device ?? "default"]);
                break;
            case "alsa":
                arguments.AddRange(["-f", "alsa", "-sample_rate", rate, "-channels", channels, "-i", _device ?? "default"]);
                break;
            case "avfoundation":
                arguments.AddRange(["-f", "avfoundation", "-i", ":" + (_device ?? "default")]);
                break;
            case "dshow":
                var listed = _device is null ? await ListDevicesAsync(cancellationToken).ConfigureAwait(false) : [];
                var device = _device ?? (listed.Count > 0 ? listed[0].Id : null)
                    ?? throw new AudioInputException("DirectShow lists no microphone. Connect one, or pass a device name (ffmpeg -list_devices true -f dshow -i dummy).");
                arguments.AddRange(["-f", "dshow", "-audio_buffer_size", "20", "-i", "audio=" + device]);
                break;
            default:
                arguments.AddRange(["-f", _inputFormat, "-i", _device ?? "default"]);
                break;
        }

        arguments.AddRange(["-ac", channels, "-ar", rate, "-f", "s16le", "-acodec", "pcm_s16le", "-"]);
        return arguments;
    }

    private string Describe(string stderr)
    {
        var hint = _inputFormat switch
        {
            "pulse" => "Is PulseAudio or PipeWire running (pactl info) and does the source exist (pactl list short sources)? Install pulseaudio-utils to check.",
            "avfoundation" => "Allow microphone access for the terminal or app in System Settings > Privacy & Security > Microphone.",
            "dshow" => "List devices with: ffmpeg -list_devices true -f dshow -i dummy.",
            _ => "Check the device name.",
        };
        return $"FFmpeg could not capture from {_device ?? "the default device"} ({_inputFormat}): {stderr.Trim()} {hint}";
    }

    private static async Task DrainAsync(StreamReader reader, StringBuilder tail)
    {
        var buffer = new char[1024];
        int read;
        while ((read = await reader.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            lock (tail)
            {
                tail.Append(buffer, 0, read);
                if (tail.Length > StderrTailLength)
                {
                    tail.Remove(0, tail.Length - StderrTailLength);
                }
            }
        }
    }
}

/// <summary>A capture device.</summary>
/// <param name="Id">What to pass to the backend to open it.</param>
/// <param name="Description">A human-readable description.</param>
/// <param name="Backend">The backend that listed it (<c>ffmpeg-pulse</c>, <c>portaudio</c>…).</param>
public sealed record AudioDevice(string Id, string Description, string Backend);
