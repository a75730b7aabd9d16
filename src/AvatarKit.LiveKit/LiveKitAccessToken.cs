using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AvatarKit.LiveKit;

/// <summary>Mints LiveKit access tokens (JWT, HS256, signed with the API secret) for servers you control.</summary>
public static class LiveKitAccessToken
{
    /// <summary>Creates a token that lets <paramref name="identity"/> join <paramref name="room"/>.</summary>
    /// <param name="apiKey">The API key (the token's issuer).</param>
    /// <param name="apiSecret">The API secret that signs the token.</param>
    /// <param name="room">The room to join.</param>
    /// <param name="identity">The participant identity.</param>
    /// <param name="lifetime">How long the token is valid (default 1 hour).</param>
    /// <param name="canPublish">Whether the participant may publish tracks.</param>
    /// <param name="canSubscribe">Whether the participant may subscribe to tracks.</param>
    /// <param name="canPublishData">Whether the participant may send data messages.</param>
    /// <param name="name">The display name, if any.</param>
    /// <returns>The token.</returns>
    public static string Create(
        string apiKey,
        string apiSecret,
        string room,
        string identity,
        TimeSpan? lifetime = null,
        bool canPublish = true,
        bool canSubscribe = true,
        bool canPublishData = true,
        string? name = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(apiKey);
        ArgumentException.ThrowIfNullOrEmpty(apiSecret);
        ArgumentException.ThrowIfNullOrEmpty(room);
        ArgumentException.ThrowIfNullOrEmpty(identity);
        var now = DateTimeOffset.UtcNow;
        var claims = new Dictionary<string, object>
        {
            ["iss"] = apiKey,
            ["sub"] = identity,
            ["nbf"] = now.AddSeconds(-10).ToUnixTimeSeconds(), // tolerate clock skew
            ["exp"] = now.Add(lifetime ?? TimeSpan.FromHours(1)).ToUnixTimeSeconds(),
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["name"] = name ?? identity,
            ["video"] = new Dictionary<string, object>
            {
                ["room"] = room,
                ["roomJoin"] = true,
                ["canPublish"] = canPublish,
                ["canSubscribe"] = canSubscribe,
                ["canPublishData"] = canPublishData,
            },
        };
        var header = Base64Url("""{"alg":"HS256","typ":"JWT"}"""u8);
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        var signingInput = $"{header}.{payload}";
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(apiSecret), Encoding.ASCII.GetBytes(signingInput));
        return $"{signingInput}.{Base64Url(signature)}";
    }

    private static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
