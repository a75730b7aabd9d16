using System.Text.Json;
using Refit;

namespace AvatarKit.HeyGen;

/// <summary>
/// HeyGen's legacy Interactive Avatar Streaming API v1 (<c>https://api.heygen.com</c>), LiveKit
/// transport (<c>version: "v2"</c>). Authenticates with <c>X-Api-Key</c> from <see cref="ApiKeyHandler"/>.
/// </summary>
internal interface IHeyGenStreamingApi
{
    [Post("/v1/streaming.create_token")]
    Task<HeyGenEnvelope<CreateTokenData>> CreateTokenAsync([Body] EmptyRequest request, CancellationToken cancellationToken = default);

    [Post("/v1/streaming.new")]
    Task<HeyGenEnvelope<NewSessionData>> NewSessionAsync([Body] NewSessionRequest request, CancellationToken cancellationToken = default);

    [Post("/v1/streaming.start")]
    Task<HeyGenEnvelope<JsonElement?>> StartSessionAsync([Body] StreamingSessionRequest request, CancellationToken cancellationToken = default);

    [Post("/v1/streaming.task")]
    Task<HeyGenEnvelope<TaskData>> SendTaskAsync([Body] TaskRequest request, CancellationToken cancellationToken = default);

    [Post("/v1/streaming.interrupt")]
    Task<HeyGenEnvelope<JsonElement?>> InterruptAsync([Body] StreamingSessionRequest request, CancellationToken cancellationToken = default);

    [Post("/v1/streaming.keep_alive")]
    Task<HeyGenEnvelope<JsonElement?>> KeepAliveAsync([Body] StreamingSessionRequest request, CancellationToken cancellationToken = default);

    [Post("/v1/streaming.stop")]
    Task<HeyGenEnvelope<JsonElement?>> StopSessionAsync([Body] StreamingSessionRequest request, CancellationToken cancellationToken = default);

    [Get("/v1/streaming.list")]
    Task<HeyGenEnvelope<StreamingSessionList>> ListSessionsAsync(CancellationToken cancellationToken = default);

    [Get("/v1/streaming/avatar.list")]
    Task<HeyGenEnvelope<IReadOnlyList<StreamingAvatarEntry>>> ListAvatarsAsync(CancellationToken cancellationToken = default);
}
