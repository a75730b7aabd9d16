using System.Text.Json.Serialization;

namespace AvatarKit.HeyGen;

// Data-channel events of the Streaming API v1 (specs: heygen-streaming-v1.md §5.1).
internal sealed record StreamingServerEvent(string? Type, string? TaskId, string? Message);

/// <summary>Source-generated serialization of the Streaming API v1 data-channel events.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(StreamingServerEvent))]
internal sealed partial class StreamingEventJsonContext : JsonSerializerContext;
