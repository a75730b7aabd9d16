namespace AvatarKit;

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
