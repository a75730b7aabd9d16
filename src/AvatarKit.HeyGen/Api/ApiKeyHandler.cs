namespace AvatarKit.HeyGen;

/// <summary>Adds the account API key to requests that carry no session token (the key never reaches logs or exceptions).</summary>
/// <param name="headerName">The provider's header name.</param>
/// <param name="apiKey">Reads the current key, so that a rotated key applies without recreating clients.</param>
internal sealed class ApiKeyHandler(string headerName, Func<string?> apiKey) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Headers.Authorization is null && apiKey() is { Length: > 0 } key)
        {
            request.Headers.Remove(headerName);
            request.Headers.TryAddWithoutValidation(headerName, key);
        }

        return base.SendAsync(request, cancellationToken);
    }
}
