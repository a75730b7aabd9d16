using System.Net;

namespace AvatarKit.Llm;

/// <summary>
/// Gemini refused a request or broke off an answer. <see cref="AvatarApiException.ProviderCode"/> holds
/// Google's status (<c>RESOURCE_EXHAUSTED</c>, <c>INVALID_ARGUMENT</c>…) or one of this class's codes for
/// failures of the stream itself; <see cref="AvatarApiException.RetryAfter"/> holds the server's
/// <c>RetryInfo</c> delay when it sent one.
/// </summary>
public sealed class GeminiApiException : AvatarApiException
{
    /// <summary>The streamed answer ended (cut, or closed without a finish reason) before it was complete.</summary>
    public const string IncompleteStreamCode = "INCOMPLETE_STREAM";

    /// <summary>The service sent a body that is not the JSON it documents.</summary>
    public const string MalformedResponseCode = "MALFORMED_RESPONSE";

    /// <summary>Initializes a new instance.</summary>
    public GeminiApiException()
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public GeminiApiException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public GeminiApiException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance from a Google error.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    /// <param name="statusCode">The HTTP status, when the error came from HTTP.</param>
    /// <param name="providerCode">Google's status string, or one of this class's codes.</param>
    /// <param name="providerMessage">Google's error message.</param>
    /// <param name="innerException">The cause.</param>
    public GeminiApiException(string message, HttpStatusCode? statusCode, string? providerCode, string? providerMessage, Exception? innerException = null)
        : base(message, statusCode, providerCode, providerMessage, requestId: null, innerException)
    {
    }

    /// <summary>Gets a value indicating whether trying again later may succeed (429, 5xx, a timeout, a network failure, a cut stream).</summary>
    public bool IsTransient =>
        StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout or >= HttpStatusCode.InternalServerError
        || ProviderCode == IncompleteStreamCode
        || InnerException is HttpRequestException;
}
