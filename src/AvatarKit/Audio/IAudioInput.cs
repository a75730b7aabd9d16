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

/// <summary>Thrown when audio cannot be captured: no device, no backend, a device error.</summary>
public class AudioInputException : Exception
{
    /// <summary>Initializes a new instance.</summary>
    public AudioInputException()
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What went wrong and what to install or change.</param>
    public AudioInputException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the cause.</summary>
    /// <param name="message">What went wrong and what to install or change.</param>
    /// <param name="innerException">The cause.</param>
    public AudioInputException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
