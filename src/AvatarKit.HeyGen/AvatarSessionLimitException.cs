using System.Net;

namespace AvatarKit.HeyGen;

/// <summary>
/// The provider refused a session because a limit was reached: concurrent sessions, credits or
/// plan quota. The message says what to do; <see cref="AvatarApiException.ProviderMessage"/> has the provider's text.
/// </summary>
public sealed class AvatarSessionLimitException : AvatarApiException
{
    /// <summary>Initializes a new instance.</summary>
    public AvatarSessionLimitException()
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    public AvatarSessionLimitException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the cause.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    /// <param name="innerException">The cause.</param>
    public AvatarSessionLimitException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance from a provider's error response.</summary>
    /// <param name="message">What went wrong and what to do.</param>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="providerCode">The provider's error code.</param>
    /// <param name="providerMessage">The provider's error message.</param>
    /// <param name="requestId">The provider's request id.</param>
    public AvatarSessionLimitException(string message, HttpStatusCode? statusCode, string? providerCode, string? providerMessage, string? requestId)
        : base(message, statusCode, providerCode, providerMessage, requestId)
    {
    }

    /// <summary>
    /// Gets the account's active sessions that this process did not open, when the provider listed them
    /// (empty otherwise): sessions of other processes, or ones a crashed or killed process left open.
    /// </summary>
    public IReadOnlyList<string> OtherActiveSessionIds { get; init; } = [];
}
