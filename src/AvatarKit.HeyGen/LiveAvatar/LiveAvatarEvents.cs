using System.Text.Json.Serialization;

namespace AvatarKit.HeyGen;

// Realtime messages (specs: liveavatar.md §5). FULL: data channel; LITE: WebSocket.
internal sealed record LiveAvatarCommand(string EventType, string? EventId, string? Text);

internal sealed record LiveAvatarServerEvent(string? EventType, string? EventId, string? SourceEventId, string? Text, string? StopReason, string? EndReason);

internal sealed record LiteCommand(string Type, string? EventId);

internal sealed record LiteServerEvent(string? Type, string? State, string? EventId, string? SourceEventId, LiteError? Error);

internal sealed record LiteError(string? Type, string? Message);

/// <summary>Source-generated serialization of the realtime messages.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LiveAvatarCommand))]
[JsonSerializable(typeof(LiveAvatarServerEvent))]
[JsonSerializable(typeof(LiteCommand))]
[JsonSerializable(typeof(LiteServerEvent))]
internal sealed partial class LiveAvatarEventJsonContext : JsonSerializerContext;
