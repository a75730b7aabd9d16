namespace AvatarKit;

/// <summary>A source of live audio: a microphone, a WAV file paced in real time, a room track.</summary>
public interface IAudioInput
{
    /// <summary>Gets a human-readable name of the source (device name, file name).</summary>
    string Name { get; }

    /// <summary>Captures audio until cancelled or the source ends.</summary>
    /// <param name="format">The format to deliver (the source converts if needed).</param>
    /// <param name="cancellationToken">Stops capturing.</param>
    /// <returns>Frames of about 20 ms, timestamped from the start of capture; the reader owns and disposes each.</returns>
    /// <exception cref="AudioInputException">No device or backend is available (the message says what to install).</exception>
    IAsyncEnumerable<AudioFrame> CaptureAsync(AudioFormat format, CancellationToken cancellationToken = default);
}
