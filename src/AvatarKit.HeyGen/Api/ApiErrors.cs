using System.Globalization;
using System.Net;
using System.Text.Json;

namespace AvatarKit.HeyGen;

/// <summary>Turns a provider's error response into an <see cref="AvatarApiException"/> with its code, message and request id.</summary>
internal static class ApiErrors
{
    private static readonly string[] RequestIdHeaders = ["x-request-id", "request-id", "x-amzn-requestid", "cf-ray"];

    public static async Task<Exception?> CreateAsync(HttpResponseMessage response, string provider, string apiKeySetting, Func<string?> apiKey)
    {
        if (response.IsSuccessStatusCode)
        {
            return null;
        }

        var body = response.Content is null ? string.Empty : await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        var (code, text) = Parse(body);
        if (apiKey() is { Length: > 0 } key && text is not null)
        {
            text = text.Replace(key, "***", StringComparison.Ordinal);
        }

        var status = response.StatusCode;
        var requestId = RequestIdHeaders.Select(h => response.Headers.TryGetValues(h, out var v) ? v.FirstOrDefault() : null).FirstOrDefault(v => v is not null);
        var retryAfter = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => (TimeSpan?)null,
        };
        var path = response.RequestMessage?.RequestUri?.AbsolutePath ?? "request";
        var summary = $"{provider} {path} failed with HTTP {(int)status} ({status}): {text ?? "no error message"}.";
        if (IsSessionLimit(status, code, text))
        {
            return new AvatarSessionLimitException(
                $"{summary} Stop sessions you no longer use (IAvatarService.CloseAllSessionsAsync stops every active session of the account), " +
                "lower concurrency, or raise the plan's limit; sessions a crashed process left open are reclaimed at start when ReclaimStaleSessions is on.",
                status, code, text, requestId) { RetryAfter = retryAfter };
        }

        var hint = status switch
        {
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => $" Check the API key ({apiKeySetting}).",
            HttpStatusCode.TooManyRequests => retryAfter is { } wait ? $" Rate limited; retry after {wait.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s." : " Rate limited; retry later.",
            HttpStatusCode.UnprocessableEntity => " The request did not pass the provider's validation.",
            _ => string.Empty,
        };
        return new AvatarApiException(summary + hint, status, code, text, requestId) { RetryAfter = retryAfter };
    }

    private static bool IsSessionLimit(HttpStatusCode status, string? code, string? text) =>
        (int)status is >= 400 and < 500 and not 401 and not 429
        && text is not null
        && (text.Contains("concurrent", StringComparison.OrdinalIgnoreCase)
            || text.Contains("session limit", StringComparison.OrdinalIgnoreCase)
            || text.Contains("credit", StringComparison.OrdinalIgnoreCase)
            || code is "10004" or "10007");

    /// <summary>Reads the provider's code and message from any of the shapes the APIs use.</summary>
    private static (string? Code, string? Message) Parse(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return (null, null);
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, Truncate(body));
            }

            // FastAPI validation: { "detail": [ { "loc": [...], "msg": "..." } ] }
            if (root.TryGetProperty("detail", out var detail))
            {
                if (detail.ValueKind == JsonValueKind.Array)
                {
                    var messages = detail.EnumerateArray().Select(d =>
                    {
                        var loc = d.TryGetProperty("loc", out var l) && l.ValueKind == JsonValueKind.Array ? string.Join('.', l.EnumerateArray().Select(x => x.ToString())) : null;
                        var msg = d.TryGetProperty("msg", out var m) ? m.GetString() : d.ToString();
                        return loc is null ? msg : $"{loc}: {msg}";
                    });
                    return ("validation_error", string.Join("; ", messages));
                }

                return (null, detail.ToString());
            }

            var code = root.TryGetProperty("code", out var c) ? c.ToString() : null;
            string? message = root.TryGetProperty("message", out var mm) && mm.ValueKind == JsonValueKind.String ? mm.GetString() : null;
            if (root.TryGetProperty("error", out var error))
            {
                if (error.ValueKind == JsonValueKind.String)
                {
                    message ??= error.GetString();
                }
                else if (error.ValueKind == JsonValueKind.Object)
                {
                    message ??= error.TryGetProperty("message", out var em) ? em.GetString() : null;
                    code ??= error.TryGetProperty("code", out var ec) ? ec.ToString() : null;
                }
            }

            if (message is null && root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array
                && data.GetArrayLength() > 0 && data[0].ValueKind == JsonValueKind.Object && data[0].TryGetProperty("message", out var dm))
            {
                message = dm.GetString();
            }

            return (code, message);
        }
        catch (JsonException)
        {
            return (null, Truncate(body));
        }
    }

    private static string Truncate(string text) => text.Length <= 500 ? text : string.Concat(text.AsSpan(0, 500), "…");
}
