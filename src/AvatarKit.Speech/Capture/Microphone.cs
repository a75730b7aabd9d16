namespace AvatarKit.Speech.Capture;

/// <summary>Picks a microphone backend for this machine: FFmpeg when installed, else PortAudio.</summary>
public static class Microphone
{
    /// <summary>Creates the default microphone input.</summary>
    /// <param name="device">A device for the chosen backend (see <see cref="ListDevicesAsync"/>); the default when null.</param>
    /// <returns>The input.</returns>
    /// <exception cref="AudioInputException">Neither FFmpeg nor PortAudio is installed (the message says how to install them).</exception>
    public static IAudioInput Create(string? device = null)
    {
        if (FfmpegAudioInput.IsAvailable)
        {
            return new FfmpegAudioInput(device);
        }

        if (PortAudioInput.IsAvailable)
        {
            return new PortAudioInput(device is null ? null : int.Parse(device, System.Globalization.CultureInfo.InvariantCulture));
        }

        throw new AudioInputException(
            "No microphone backend is available. Install FFmpeg (apt-get install ffmpeg, brew install ffmpeg, winget install ffmpeg) "
            + "or PortAudio (apt-get install libportaudio2, brew install portaudio).");
    }

    /// <summary>Lists the capture devices of every available backend.</summary>
    /// <param name="cancellationToken">Cancels the listing.</param>
    /// <returns>The devices; empty when no backend is installed.</returns>
    public static async Task<IReadOnlyList<AudioDevice>> ListDevicesAsync(CancellationToken cancellationToken = default)
    {
        var devices = new List<AudioDevice>();
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
}
