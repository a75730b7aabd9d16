namespace AvatarKit.Testing;

/// <summary>A request an emulator received, kept so tests can compare it with the provider's documented shape.</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The path.</param>
/// <param name="Query">The query string, including the leading <c>?</c>, or empty.</param>
/// <param name="Body">The body as text (empty when none).</param>
/// <param name="AuthScheme">How the request authenticated: <c>api-key</c>, <c>bearer</c>, or <see langword="null"/> (never the secret itself).</param>
public sealed record RecordedRequest(string Method, string Path, string Query, string Body, string? AuthScheme);
