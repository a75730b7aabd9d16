using System.Text.Json;
using Refit;

namespace AvatarKit.HeyGen;

/// <summary>
/// The LiveAvatar REST API (<c>https://api.liveavatar.com</c>). The account API key is added as
/// <c>X-API-KEY</c> by <see cref="ApiKeyHandler"/> unless a call carries a session token.
/// </summary>
internal interface ILiveAvatarApi
{
    [Post("/v1/sessions/token")]
    Task<LiveAvatarEnvelope<SessionTokenData>> CreateSessionTokenAsync([Body] SessionTokenRequest request, CancellationToken cancellationToken = default);

    [Post("/v1/sessions/start")]
    Task<LiveAvatarEnvelope<StartSessionData>> StartSessionAsync([Authorize("Bearer")] string sessionToken, CancellationToken cancellationToken = default);

    [Post("/v1/sessions/stop")]
    Task<LiveAvatarEnvelope<JsonElement?>> StopSessionAsync([Body] StopSessionRequest request, CancellationToken cancellationToken = default);

    [Post("/v1/sessions/keep-alive")]
    Task<LiveAvatarEnvelope<JsonElement?>> KeepAliveAsync([Body] SessionIdRequest request, CancellationToken cancellationToken = default);

    [Get("/v1/sessions")]
    Task<LiveAvatarEnvelope<LiveAvatarPage<SessionEntry>>> ListSessionsAsync(string type, int page = 1, [AliasAs("page_size")] int pageSize = 100, CancellationToken cancellationToken = default);

    [Get("/v1/avatars/public")]
    Task<LiveAvatarEnvelope<LiveAvatarPage<AvatarEntry>>> ListPublicAvatarsAsync(int page = 1, [AliasAs("page_size")] int pageSize = 100, CancellationToken cancellationToken = default);

    [Get("/v1/avatars")]
    Task<LiveAvatarEnvelope<LiveAvatarPage<AvatarEntry>>> ListUserAvatarsAsync(int page = 1, [AliasAs("page_size")] int pageSize = 100, CancellationToken cancellationToken = default);

    [Get("/v1/voices")]
    Task<LiveAvatarEnvelope<LiveAvatarPage<VoiceEntry>>> ListVoicesAsync([AliasAs("voice_type")] string voiceType = "public", int page = 1, [AliasAs("page_size")] int pageSize = 100, CancellationToken cancellationToken = default);

    [Get("/v1/contexts")]
    Task<LiveAvatarEnvelope<LiveAvatarPage<ContextEntry>>> ListContextsAsync(int page = 1, [AliasAs("page_size")] int pageSize = 100, CancellationToken cancellationToken = default);
}
