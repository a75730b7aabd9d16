using System.Text.Json;
using System.Text.Json.Serialization;

namespace AvatarKit.HeyGen;

// Wire types of the Streaming API v1 (specs: heygen-streaming-v1.md §4). snake_case on the wire.
internal sealed record HeyGenEnvelope<T>(int? Code, T? Data, string? Message, JsonElement? Error);

internal sealed record EmptyRequest;

internal sealed record CreateTokenData(string Token);

internal sealed record NewSessionRequest
{
    public required string AvatarId { get; init; }

    public string? Quality { get; init; }

    public StreamingVoice? Voice { get; init; }

    public string? Language { get; init; }

    public string? KnowledgeBaseId { get; init; }

    public string Version { get; init; } = "v2";

    public string? VideoEncoding { get; init; }

    public int? ActivityIdleTimeout { get; init; }
}

internal sealed record StreamingVoice(string? VoiceId, double? Rate, string? Emotion);

internal sealed record NewSessionData(string SessionId, string? Url, string? AccessToken, string? LivekitAgentToken, string? RealtimeEndpoint, bool? IsPaid, int? SessionDurationLimit);

internal sealed record StreamingSessionRequest(string SessionId);

internal sealed record TaskRequest(string SessionId, string Text, string TaskType, string? TaskMode);

internal sealed record TaskData(double? DurationMs, string? TaskId);

internal sealed record StreamingSessionList(IReadOnlyList<StreamingSessionEntry>? Sessions);

internal sealed record StreamingSessionEntry(string SessionId, string? Status, long? CreatedAt);

internal sealed record StreamingAvatarEntry(string AvatarId, long? CreatedAt, bool? IsPublic, string? Status);

/// <summary>Source-generated serialization of the Streaming API v1 wire types.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(HeyGenEnvelope<CreateTokenData>))]
[JsonSerializable(typeof(HeyGenEnvelope<NewSessionData>))]
[JsonSerializable(typeof(HeyGenEnvelope<JsonElement?>))]
[JsonSerializable(typeof(HeyGenEnvelope<TaskData>))]
[JsonSerializable(typeof(HeyGenEnvelope<StreamingSessionList>))]
[JsonSerializable(typeof(HeyGenEnvelope<IReadOnlyList<StreamingAvatarEntry>>))]
[JsonSerializable(typeof(EmptyRequest))]
[JsonSerializable(typeof(NewSessionRequest))]
[JsonSerializable(typeof(StreamingSessionRequest))]
[JsonSerializable(typeof(TaskRequest))]
internal sealed partial class HeyGenStreamingJsonContext : JsonSerializerContext;
