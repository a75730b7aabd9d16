using System.Net;

namespace AvatarKit.Speech.Deepgram;

/// <summary>
/// Deepgram refused a request or ended a stream: a refused handshake or REST call (with the HTTP status,
/// Deepgram's error code and message) or a WebSocket close (with the close code and reason).
/// Never carries the API key.
/// </summary>
public sealed class DeepgramException : AvatarApiException
{
    /// <summary>Initializes a new instance.</summary>
    public DeepgramException()
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public DeepgramException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public DeepgramException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance from an HTTP refusal.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="providerCode">Deepgram's error code.</param>
    /// <param name="providerMessage">Deepgram's error message.</param>
    /// <param name="requestId">Deepgram's request id.</param>
    /// <param name="innerException">The cause.</param>
    public DeepgramException(string message, HttpStatusCode? statusCode, string? providerCode, string? providerMessage, string? requestId, Exception? innerException = null)
        : base(message, statusCode, providerCode, providerMessage, requestId, innerException)
    {
    }

    /// <summary>Gets the WebSocket close code when the stream was closed by Deepgram (1008, 1011…).</summary>
    public int? CloseCode { get; init; }

    /// <summary>Gets the WebSocket close reason (<c>NET-0001</c>, <c>DATA-0000</c>…).</summary>
    public string? CloseReason { get; init; }
}
