namespace AvatarKit;

/// <summary>Thrown when a room cannot be joined or the connection fails.</summary>
public class RoomConnectionException : Exception
{
    /// <summary>Initializes a new instance.</summary>
    public RoomConnectionException()
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    public RoomConnectionException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the cause.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public RoomConnectionException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
