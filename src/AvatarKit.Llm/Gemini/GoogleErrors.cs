using System.Globalization;
using System.Net;
using System.Text.Json;

namespace AvatarKit.Llm.Gemini;

/// <summary>Reads Google's error envelope (<c>{"error":{code,message,status,details}}</c>) into exceptions and retry delays.</summary>
internal static class GoogleErrors
{
    private const string RetryInfoType = "type.googleapis.com/google.rpc.RetryInfo";
    private const string ErrorInfoType = "type.googleapis.com/google.rpc.ErrorInfo";

    public static GoogleError? TryParse(ReadOnlySpan<byte> body)
    {
        try
        {
            return JsonSerializer.Deserialize(body, GeminiJsonContext.Default.GoogleErrorEnvelope)?.Error;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static async Task<GeminiApiException> FromResponseAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var error = TryParse(body);
        var retryAfter = (error is null ? null : GetRetryDelay(error)) ?? GetRetryAfterHeader(response);
        if (error is null)
        {
            var text = System.Text.Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 500)));
            return new GeminiApiException(
                $"Gemini {operation} failed with HTTP {(int)response.StatusCode} {response.ReasonPhrase} and a body that is not a Google error: {text}",
                response.StatusCode,
                providerCode: null,
                providerMessage: text)
            { RetryAfter = retryAfter };
        }

        return Create(error, operation, response.StatusCode, retryAfter);
    }

    public static GeminiApiException Create(GoogleError error, string operation, HttpStatusCode? statusCode, TimeSpan? retryAfter = null)
    {
        var status = statusCode ?? (error.Code is >= 100 and <= 599 ? (HttpStatusCode)error.Code : null);
        var hint = GetReason(error) == "API_KEY_INVALID" || status == HttpStatusCode.Forbidden
            ? " Check the API key (GEMINI_API_KEY or AvatarKit:Gemini:ApiKey)."
            : status == HttpStatusCode.NotFound ? " Check the model id (GEMINI_MODEL or AvatarKit:Gemini:Model)." : "";
        retryAfter ??= GetRetryDelay(error);
        var wait = retryAfter is { } delay ? $" Retry after {delay.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s." : "";
        return new GeminiApiException(
            $"Gemini {operation} failed: {(int?)status} {error.Status}: {error.Message}{hint}{wait}",
            status,
            error.Status,
            error.Message)
        { RetryAfter = retryAfter };
    }

    /// <summary>Reads <c>RetryInfo.retryDelay</c> (a protobuf Duration such as <c>"38s"</c> or <c>"0.5s"</c>).</summary>
    public static TimeSpan? GetRetryDelay(GoogleError error)
    {
        foreach (var detail in error.Details ?? [])
        {
            if (detail.ValueKind == JsonValueKind.Object
                && detail.TryGetProperty("@type", out var type) && type.ValueEquals(RetryInfoType)
                && detail.TryGetProperty("retryDelay", out var delay) && delay.ValueKind == JsonValueKind.String)
            {
                return ParseDuration(delay.GetString());
            }
        }

        return null;
    }

    public static TimeSpan? ParseDuration(string? value) =>
        value is { Length: > 1 } && value[^1] == 's'
        && double.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
        && seconds >= 0 && seconds < TimeSpan.MaxValue.TotalSeconds
            ? TimeSpan.FromSeconds(seconds)
            : null;

    public static TimeSpan? GetRetryAfterHeader(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow is { Ticks: > 0 } wait ? wait : TimeSpan.Zero,
        _ => null,
    };

    private static string? GetReason(GoogleError error)
    {
        foreach (var detail in error.Details ?? [])
        {
            if (detail.ValueKind == JsonValueKind.Object
                && detail.TryGetProperty("@type", out var type) && type.ValueEquals(ErrorInfoType)
                && detail.TryGetProperty("reason", out var reason) && reason.ValueKind == JsonValueKind.String)
            {
                return reason.GetString();
            }
        }

        return null;
    }
}
