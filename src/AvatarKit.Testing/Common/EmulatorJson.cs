using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace AvatarKit.Testing;

/// <summary>JSON and token helpers shared by the emulators.</summary>
internal static class EmulatorJson
{
    /// <summary>Writes <paramref name="body"/> with <paramref name="statusCode"/>.</summary>
    public static IResult Json(JsonNode? body, int statusCode = StatusCodes.Status200OK) =>
        Results.Text(body?.ToJsonString() ?? "null", "application/json", Encoding.UTF8, statusCode);

    /// <summary>Reads the request body as a JSON object; an empty body is an empty object, invalid JSON is null.</summary>
    public static async Task<JsonObject?> ReadObjectAsync(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body);
        var text = await reader.ReadToEndAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        try
        {
            return JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Parses a JSON object from a message; null when it is not one.</summary>
    public static JsonObject? TryParseObject(ReadOnlySpan<byte> utf8)
    {
        try
        {
            return JsonNode.Parse(utf8) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Gets a string property, or null when absent or not a string.</summary>
    public static string? GetString(this JsonObject node, string name) =>
        node.TryGetPropertyValue(name, out var value) && value is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>Creates an opaque JWT-shaped token (header.payload.signature) naming <paramref name="subject"/>.</summary>
    public static string CreateToken(string subject, string kind)
    {
        static string Encode(string json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));
        var header = Encode("{\"alg\":\"HS256\",\"typ\":\"JWT\"}");
        var payload = Encode(new JsonObject { ["sub"] = subject, ["kind"] = kind, ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds() }.ToJsonString());
        return $"{header}.{payload}.{Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(24))}";
    }
}
