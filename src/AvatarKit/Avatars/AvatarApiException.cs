using System.Net;

namespace AvatarKit;

/// <summary>
/// A provider API refused a request. Carries the HTTP status, the provider's own error code and
/// message, and the request id for support; never the API key.
/// </summary>
public class AvatarApiException : Exception
{
    /// <summary>Initializes a new instance.</summary>
    public AvatarApiException()
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What went wrong.</param>
    public AvatarApiException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public AvatarApiException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance from a provider's error response.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    /// <param name="statusCode">The HTTP status, when the error came from HTTP.</param>
    /// <param name="providerCode">The provider's error code.</param>
    /// <param name="providerMessage">The provider's error message.</param>
    /// <param name="requestId">The provider's request id.</param>
    /// <param name="innerException">The cause.</param>
    public AvatarApiException(string message, HttpStatusCode? statusCode, string? providerCode, string? providerMessage, string? requestId, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        ProviderCode = providerCode;
        ProviderMessage = providerMessage;
        RequestId = requestId;
    }

    /// <summary>Gets the HTTP status, when the error came from HTTP.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>Gets the provider's error code.</summary>
    public string? ProviderCode { get; }

    /// <summary>Gets the provider's error message.</summary>
    public string? ProviderMessage { get; }

    /// <summary>Gets the provider's request id.</summary>
    public string? RequestId { get; }

    /// <summary>Gets how long the provider asked to wait before retrying, when it said.</summary>
    public TimeSpan? RetryAfter { get; init; }
}
