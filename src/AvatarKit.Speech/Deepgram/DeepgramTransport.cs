using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace AvatarKit.Speech.Deepgram;

/// <summary>URLs, authentication and error mapping shared by the Deepgram clients.</summary>
internal static class DeepgramTransport
{
    public static string Authorization(string apiKey) =>
        apiKey.StartsWith("Token ", StringComparison.Ordinal) || apiKey.StartsWith("Bearer ", StringComparison.Ordinal) ? apiKey : "Token " + apiKey;

    public static Uri BuildUri(Uri baseUrl, string path, bool webSocket, IEnumerable<KeyValuePair<string, string>> query)
    {
        var scheme = (baseUrl.Scheme, webSocket) switch
        {
            ("https" or "wss", true) => "wss",
            ("http" or "ws", true) => "ws",
            ("wss" or "https", false) => "https",
            _ => "http",
        };
        var text = new StringBuilder();
        foreach (var (key, value) in query)
        {
            text.Append(text.Length == 0 ? '?' : '&').Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(value));
        }

        var builder = new UriBuilder(baseUrl) { Scheme = scheme, Port = baseUrl.IsDefaultPort ? -1 : baseUrl.Port, Path = baseUrl.AbsolutePath.TrimEnd('/') + path };
        return new Uri(builder.Uri.GetLeftPart(UriPartial.Path) + text);
    }

    public static string Bool(bool value) => value ? "true" : "false";

    public static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Opens a WebSocket, mapping a refused upgrade to a <see cref="DeepgramException"/> with Deepgram's <c>dg-error</c>.</summary>
    public static async Task<ClientWebSocket> ConnectAsync(Uri url, string apiKey, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("Authorization", Authorization(apiKey));
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(15);
        try
        {
            await socket.ConnectAsync(url, cancellationToken).ConfigureAwait(false);
            return socket;
        }
        catch (WebSocketException ex)
        {
            var status = socket.HttpStatusCode;
            var headers = socket.HttpResponseHeaders;
            socket.Dispose();
            if (status == 0)
            {
                throw new DeepgramException($"Could not connect to Deepgram at {url.GetLeftPart(UriPartial.Authority)}: {ex.Message}", ex);
            }

            string? Header(string name) => headers?.TryGetValue(name, out var values) == true ? values.FirstOrDefault() : null;
            var retryAfter = Header("Retry-After") is { } seconds && int.TryParse(seconds, NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? TimeSpan.FromSeconds(s) : (TimeSpan?)null;
            throw Create(status, providerCode: null, Header("dg-error"), Header("dg-request-id"), retryAfter, ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Throws a <see cref="DeepgramException"/> for a non-success REST response (both of Deepgram's error body shapes).</summary>
    public static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        string? code = null, message = null, requestId = null;
        try
        {
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                code = Get(root, "err_code") ?? Get(root, "category");
                message = Get(root, "err_msg") ?? Get(root, "message");
                requestId = Get(root, "request_id");
            }
        }
        catch (JsonException)
        {
        }

        message ??= response.Headers.TryGetValues("dg-error", out var values) ? values.FirstOrDefault() : response.ReasonPhrase;
        requestId ??= response.Headers.TryGetValues("dg-request-id", out var ids) ? ids.FirstOrDefault() : null;
        throw Create(response.StatusCode, code, message, requestId, RetryAfter(response.Headers.RetryAfter), inner: null);
    }

    public static DeepgramException Create(HttpStatusCode status, string? providerCode, string? providerMessage, string? requestId, TimeSpan? retryAfter, Exception? inner)
    {
        var detail = providerMessage is null ? $"{(int)status}" : $"{(int)status}: {providerMessage}";
        var message = (int)status switch
        {
            401 => $"Deepgram rejected the credentials ({detail}). Check AvatarKit:Deepgram:ApiKey or DEEPGRAM_API_KEY.",
            400 => $"Deepgram refused the request options or audio ({detail}).",
            402 => $"The Deepgram project is out of credit ({detail}).",
            403 => $"The Deepgram API key lacks permission for this request ({detail}).",
            429 => $"Deepgram's rate or concurrency limit was reached ({detail}); retry later.",
            >= 500 => $"Deepgram failed with a server error ({detail}); retry later.",
            _ => $"Deepgram refused the request ({detail}).",
        };
        return new DeepgramException(message, status, providerCode, providerMessage, requestId, inner) { RetryAfter = retryAfter };
    }

    /// <summary>Whether a refused handshake may succeed when retried.</summary>
    public static bool IsTransient(DeepgramException exception) =>
        exception.StatusCode is null || exception.StatusCode == HttpStatusCode.TooManyRequests || (int)exception.StatusCode >= 500;

    private static TimeSpan? RetryAfter(RetryConditionHeaderValue? header) =>
        header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);

    private static string? Get(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
