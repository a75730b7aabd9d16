using System.Text.Json;
using System.Text.Json.Serialization;

namespace AvatarKit.HeyGen;

// Wire types of the LiveAvatar API (specs: liveavatar.md §4). Names are snake_case on the wire.
internal sealed record LiveAvatarEnvelope<T>(int? Code, T? Data, string? Message);

internal sealed record LiveAvatarPage<T>(int Count, string? Next, string? Previous, IReadOnlyList<T> Results);

internal sealed record SessionTokenRequest
{
    public required string Mode { get; init; }

    public required string AvatarId { get; init; }

    public bool? IsSandbox { get; init; }

    public VideoSettings? VideoSettings { get; init; }

    public AvatarPersona? AvatarPersona { get; init; }

    public int? MaxSessionDuration { get; init; }

    public string? InteractivityType { get; init; }
}

internal sealed record VideoSettings(string? Quality, string? Encoding);

internal sealed record AvatarPersona(string? VoiceId, string? ContextId, string? Language);

internal sealed record SessionTokenData(string SessionId, string SessionToken);

internal sealed record StartSessionData(string SessionId, string? LivekitUrl, string? LivekitClientToken, string? LivekitAgentToken, int? MaxSessionDuration, string? WsUrl);

internal sealed record StopSessionRequest(string? SessionId, string? Reason);

internal sealed record SessionIdRequest(string? SessionId);

internal sealed record SessionEntry(string Id, DateTimeOffset? CreatedAt, string? Mode, bool IsSandbox, double? CreditsConsumed);

internal sealed record AvatarEntry(string Id, string Name, string? PreviewUrl, AvatarVoiceRef? DefaultVoice, string? Status);

internal sealed record AvatarVoiceRef(string Id, string? Name);

internal sealed record VoiceEntry(string Id, string Name, string? Language, string? Gender);

internal sealed record ContextEntry(string Id, string Name);

/// <summary>Source-generated serialization of every HeyGen wire type.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(LiveAvatarEnvelope<SessionTokenData>))]
[JsonSerializable(typeof(LiveAvatarEnvelope<StartSessionData>))]
[JsonSerializable(typeof(LiveAvatarEnvelope<JsonElement?>))]
[JsonSerializable(typeof(LiveAvatarEnvelope<LiveAvatarPage<SessionEntry>>))]
[JsonSerializable(typeof(LiveAvatarEnvelope<LiveAvatarPage<AvatarEntry>>))]
[JsonSerializable(typeof(LiveAvatarEnvelope<LiveAvatarPage<VoiceEntry>>))]
[JsonSerializable(typeof(LiveAvatarEnvelope<LiveAvatarPage<ContextEntry>>))]
[JsonSerializable(typeof(SessionTokenRequest))]
[JsonSerializable(typeof(StopSessionRequest))]
[JsonSerializable(typeof(SessionIdRequest))]
[JsonSerializable(typeof(JsonElement))]
internal sealed partial class HeyGenJsonContext : JsonSerializerContext;
