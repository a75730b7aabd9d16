using AvatarKit.Speech.Capture.Wasapi;

namespace AvatarKit.Speech.Capture;

/// <summary>
/// Picks a microphone backend for this machine: WASAPI on Windows (nothing to install), else FFmpeg
/// when installed, else PortAudio.
/// </summary>
public static class Microphone
{
    /// <summary>Creates the default microphone input.</summary>
    /// <param name="device">A device for the chosen backend (see <see cref="ListDevicesAsync"/>); the default when null.</param>
    /// <returns>The input.</returns>
    /// <exception cref="AudioInputException">No backend is available (the message says how to install one).</exception>
    public static IAudioInput Create(string? device = null)
    {
        var backend = ChooseBackend(OperatingSystem.IsWindows(), FfmpegAudioInput.IsAvailable, PortAudioInput.IsAvailable);
        if (backend == MicrophoneBackend.Wasapi && OperatingSystem.IsWindows())
        {
            return new WasapiAudioInput(device);
        }

        return backend switch
        {
            MicrophoneBackend.Ffmpeg => new FfmpegAudioInput(device),
            MicrophoneBackend.PortAudio => new PortAudioInput(device is null ? null : int.Parse(device, System.Globalization.CultureInfo.InvariantCulture)),
            _ => throw new AudioInputException(
                "No microphone backend is available. Install FFmpeg (apt-get install ffmpeg, brew install ffmpeg, winget install ffmpeg) "
                + "or PortAudio (apt-get install libportaudio2, brew install portaudio)."),
        };
    }

    /// <summary>Lists the capture devices of every available backend.</summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The devices; empty when no backend is installed.</returns>
    public static async Task<IReadOnlyList<AudioDevice>> ListDevicesAsync(CancellationToken cancellationToken = default)
    {
        var devices = new List<AudioDevice>();
        if (OperatingSystem.IsWindows())
        {
            devices.AddRange(WasapiAudioInput.ListDevices());
        }

        if (FfmpegAudioInput.IsAvailable)
        {
            devices.AddRange(await new FfmpegAudioInput().ListDevicesAsync(cancellationToken).ConfigureAwait(false));
        }

        if (PortAudioInput.IsAvailable)
        {
            devices.AddRange(PortAudioInput.ListDevices());
        }

        return devices;
    }

    /// <summary>The backend for a machine: WASAPI on Windows, else FFmpeg, else PortAudio, else none.</summary>
    internal static MicrophoneBackend ChooseBackend(bool isWindows, bool ffmpegInstalled, bool portAudioInstalled) =>
        isWindows ? MicrophoneBackend.Wasapi
        : ffmpegInstalled ? MicrophoneBackend.Ffmpeg
        : portAudioInstalled ? MicrophoneBackend.PortAudio
        : MicrophoneBackend.None;
}

/// <summary>A microphone backend <see cref="Microphone"/> can choose.</summary>
internal enum MicrophoneBackend
{
    None,
    Wasapi,
    Ffmpeg,
    PortAudio,
}
