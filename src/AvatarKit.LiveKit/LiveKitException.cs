namespace AvatarKit.LiveKit;

/// <summary>Thrown when LiveKit's native SDK reports an error for an operation on a joined room.</summary>
public sealed class LiveKitException : Exception
{
    /// <summary>Initializes a new instance.</summary>
    public LiveKitException()
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What went wrong, with LiveKit's error text.</param>
    public LiveKitException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the cause.</summary>
    /// <param name="message">What went wrong, with LiveKit's error text.</param>
    /// <param name="innerException">The cause.</param>
    public LiveKitException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
