using System.Net;
using System.Text.Json.Nodes;

namespace AvatarKit.HeyGen.Tests;

/// <summary>Every LiveAvatar endpoint round-trips with the JSON the spec shows, over real HTTP.</summary>
public sealed class LiveAvatarApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Full_token_request_is_the_documented_body_with_the_api_key_header()
    {
        await using var h = await LiveAvatarHarness.StartAsync(o =>
        {
            o.VoiceId = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
            o.ContextId = "99999999-8888-4777-8666-555555555555";
            o.Language = "en";
            o.Quality = AvatarQuality.High;
            o.VideoEncoding = "VP8";
        });
        var service = (LiveAvatarService)h.Service;

        var token = await h.Api.CreateSessionTokenAsync(service.BuildTokenRequest(null), Ct);

        var request = h.Emulator.Requests.Last();
        Assert.Equal(("POST", "/v1/sessions/token", "api-key"), (request.Method, request.Path, request.AuthScheme));
        AssertJson(
            """
            {
              "mode": "FULL",
              "avatar_id": "11111111-2222-4333-8444-555555555555",
              "is_sandbox": false,
              "video_settings": { "quality": "high", "encoding": "VP8" },
              "avatar_persona": {
                "voice_id": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
                "context_id": "99999999-8888-4777-8666-555555555555",
                "language": "en"
              }
            }
            """,
            request.Body);
        Assert.Equal(1000, token.Code);
        Assert.True(Guid.TryParse(token.Data!.SessionId, out _));
        Assert.Equal(3, token.Data.SessionToken.Split('.').Length);
    }

    [Fact]
    public async Task Lite_token_request_is_the_documented_body()
    {
        await using var h = await LiveAvatarHarness.StartAsync(o =>
        {
            o.Mode = LiveAvatarMode.Lite;
            o.IsSandbox = true;
            o.AvatarId = LiveAvatarOptions.SandboxAvatarId;
            o.VideoEncoding = "VP8";
        });

        await h.Api.CreateSessionTokenAsync(((LiveAvatarService)h.Service).BuildTokenRequest(null), Ct);

        AssertJson(
            """{ "mode": "LITE", "avatar_id": "dd73ea75-1218-4ef3-92ce-606d5f7fbc0a", "is_sandbox": true, "video_settings": { "encoding": "VP8" } }""",
            h.Emulator.Requests.Last().Body);
    }

    [Fact]
    public async Task Start_uses_the_bearer_session_token_and_reads_the_201_body()
    {
        await using var h = await LiveAvatarHarness.StartAsync(o => o.Mode = LiveAvatarMode.Lite);
        var token = (await h.Api.CreateSessionTokenAsync(((LiveAvatarService)h.Service).BuildTokenRequest(null), Ct)).Data!;

        var start = (await h.Api.StartSessionAsync(token.SessionToken, Ct)).Data!;

        var request = h.Emulator.Requests.Last();
        Assert.Equal(("/v1/sessions/start", "bearer", string.Empty), (request.Path, request.AuthScheme, request.Body));
        Assert.Equal(token.SessionId, start.SessionId);
        Assert.NotNull(start.LivekitUrl);
        Assert.NotNull(start.LivekitClientToken);
        Assert.NotNull(start.LivekitAgentToken);
        Assert.Equal(1200, start.MaxSessionDuration);
        Assert.StartsWith("ws://", start.WsUrl, StringComparison.Ordinal);
        await h.Api.StopSessionAsync(new StopSessionRequest(start.SessionId, "USER_CLOSED"), Ct);
    }

    [Fact]
    public async Task Stop_and_keep_alive_send_the_session_id_with_the_api_key()
    {
        await using var h = await LiveAvatarHarness.StartAsync();
        var token = (await h.Api.CreateSessionTokenAsync(((LiveAvatarService)h.Service).BuildTokenRequest(null), Ct)).Data!;
        await h.Api.StartSessionAsync(token.SessionToken, Ct);

        await h.Api.KeepAliveAsync(new SessionIdRequest(token.SessionId), Ct);
        AssertJson($$"""{ "session_id": "{{token.SessionId}}" }""", h.Emulator.Requests.Last().Body);
        Assert.Equal(1, h.Emulator.OpenSessionCount);

        var stopped = await h.Api.StopSessionAsync(new StopSessionRequest(token.SessionId, "USER_CLOSED"), Ct);

        var request = h.Emulator.Requests.Last();
        Assert.Equal(("/v1/sessions/stop", "api-key"), (request.Path, request.AuthScheme));
        AssertJson($$"""{ "session_id": "{{token.SessionId}}", "reason": "USER_CLOSED" }""", request.Body);
        Assert.Equal(1000, stopped.Code);
        Assert.Equal(0, h.Emulator.OpenSessionCount);
    }

    [Fact]
    public async Task Active_sessions_are_listed_with_the_required_type_query()
    {
        await using var h = await LiveAvatarHarness.StartAsync();
        await using var session = await h.Service.StartSessionAsync(cancellationToken: Ct);

        var active = await h.Service.ListActiveSessionsAsync(Ct);

        Assert.Equal(session.SessionId, Assert.Single(active).SessionId);
        var request = h.Emulator.Requests.Last(r => r.Path == "/v1/sessions");
        Assert.Equal("?type=active&page=1&page_size=100", request.Query);
    }

    [Fact]
    public async Task Catalogue_lists_user_and_public_avatars_voices_and_contexts()
    {
        await using var h = await LiveAvatarHarness.StartAsync();

        var avatars = await h.Service.ListAvatarsAsync(Ct);
        var catalog = (ILiveAvatarCatalog)h.Service.GetService(typeof(ILiveAvatarCatalog))!;
        var voices = await catalog.ListVoicesAsync(cancellationToken: Ct);
        var contexts = await catalog.ListContextsAsync(Ct);

        Assert.Equal(3, avatars.Count);
        var wayne = Assert.Single(avatars, a => a.Id == LiveAvatarOptions.SandboxAvatarId);
        Assert.Equal("Wayne", wayne.Name);
        Assert.True(wayne.IsPublic);
        Assert.NotNull(wayne.PreviewImageUrl);
        Assert.Equal("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee", wayne.DefaultVoiceId);
        Assert.Contains(avatars, a => !a.IsPublic);
        Assert.Equal("en", Assert.Single(voices).Language);
        Assert.Equal("Support agent", Assert.Single(contexts).Name);
    }

    [Fact]
    public async Task A_bad_key_is_a_401_with_the_providers_message_and_no_secret()
    {
        await using var h = await LiveAvatarHarness.StartAsync(o => o.ApiKey = "wrong-secret-key-123");

        var error = await Assert.ThrowsAsync<AvatarApiException>(() => h.Service.StartSessionAsync(cancellationToken: Ct));

        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);
        Assert.Equal("Invalid API key", error.ProviderMessage);
        Assert.Equal("401", error.ProviderCode);
        Assert.NotNull(error.RequestId);
        Assert.Contains("LIVEAVATAR_API_KEY", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret-key-123", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_avatar_is_the_providers_400()
    {
        await using var h = await LiveAvatarHarness.StartAsync(o => o.AvatarId = "00000000-0000-4000-8000-000000000000");

        var error = await Assert.ThrowsAsync<AvatarApiException>(() => h.Service.StartSessionAsync(cancellationToken: Ct));

        Assert.Equal(HttpStatusCode.BadRequest, error.StatusCode);
        Assert.Contains("not found", error.ProviderMessage, StringComparison.Ordinal);
        Assert.Equal(0, h.Emulator.OpenSessionCount);
    }

    [Fact]
    public async Task A_validation_error_names_the_field()
    {
        await using var h = await LiveAvatarHarness.StartAsync(o => o.AvatarId = "not-a-uuid");

        var error = await Assert.ThrowsAsync<AvatarApiException>(() => h.Service.StartSessionAsync(cancellationToken: Ct));

        Assert.Equal(HttpStatusCode.UnprocessableEntity, error.StatusCode);
        Assert.Equal("validation_error", error.ProviderCode);
        Assert.Contains("body.avatar_id: Input should be a valid UUID", error.ProviderMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_concurrency_limit_is_a_session_limit_exception_that_says_what_to_do()
    {
        await using var h = await LiveAvatarHarness.StartAsync(o => o.MaxConcurrentSessions = 5, e => e.MaxConcurrentSessions = 1);
        await using var first = await h.Service.StartSessionAsync(cancellationToken: Ct);

        var error = await Assert.ThrowsAsync<AvatarSessionLimitException>(() => h.Service.StartSessionAsync(cancellationToken: Ct));

        Assert.Contains("CloseAllSessionsAsync", error.Message, StringComparison.Ordinal);
        Assert.Contains("Concurrent session limit", error.ProviderMessage, StringComparison.Ordinal);
        Assert.Equal(1, h.Emulator.OpenSessionCount);
    }

    [Fact]
    public async Task A_429_is_retried_after_its_Retry_After_and_then_succeeds()
    {
        await using var h = await LiveAvatarHarness.StartAsync();
        h.Emulator.Faults.Fail("/v1/sessions/token", 429, times: 1, retryAfter: TimeSpan.FromSeconds(1));
        h.Emulator.Faults.Fail("/v1/sessions/start", 429, times: 1, retryAfter: TimeSpan.FromSeconds(1));

        var started = DateTimeOffset.UtcNow;
        await using var session = await h.Service.StartSessionAsync(cancellationToken: Ct);

        Assert.Equal(2, h.Emulator.Requests.Count(r => r.Path == "/v1/sessions/token"));
        Assert.Equal(2, h.Emulator.Requests.Count(r => r.Path == "/v1/sessions/start"));
        Assert.True(DateTimeOffset.UtcNow - started >= TimeSpan.FromSeconds(1.9), "Retry-After was not honoured.");
        Assert.Equal(AvatarSessionState.Ready, session.State);
    }

    [Fact]
    public async Task A_5xx_on_start_is_not_retried_and_the_session_is_stopped()
    {
        await using var h = await LiveAvatarHarness.StartAsync();
        h.Emulator.Faults.Fail("/v1/sessions/start", 500);

        var error = await Assert.ThrowsAsync<AvatarApiException>(() => h.Service.StartSessionAsync(cancellationToken: Ct));

        Assert.Equal(HttpStatusCode.InternalServerError, error.StatusCode);
        Assert.Equal(1, h.Emulator.Requests.Count(r => r.Path == "/v1/sessions/start"));
        Assert.Equal(1, h.Emulator.Requests.Count(r => r.Path == "/v1/sessions/stop"));
        Assert.Equal(0, h.Emulator.OpenSessionCount);
    }

    [Fact]
    public async Task A_5xx_on_stop_is_retried_until_the_session_is_stopped()
    {
        await using var h = await LiveAvatarHarness.StartAsync();
        var session = await h.Service.StartSessionAsync(cancellationToken: Ct);
        h.Emulator.Faults.Fail("/v1/sessions/stop", 503, times: 2);

        await session.DisposeAsync();

        Assert.Equal(3, h.Emulator.Requests.Count(r => r.Path == "/v1/sessions/stop"));
        Assert.Equal(AvatarSessionState.Closed, session.State);
        Assert.Equal(0, h.Emulator.OpenSessionCount);
    }

    internal static void AssertJson(string expected, string actual) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"Expected {JsonNode.Parse(expected)!.ToJsonString()}, got {actual}");
}
