using System.Text.Json;

namespace AvatarKit.Harness.Measuring;

/// <summary>The one-line JSON summaries the harness prints last with <c>--json</c>.</summary>
internal static class Json
{
    private static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static string Line<T>(T value) => JsonSerializer.Serialize(value, Options);
}
