using Microsoft.Extensions.DependencyInjection;

namespace AvatarKit.HeyGen.Tests;

/// <summary>Against the real services; skipped unless LIVEAVATAR_API_KEY / HEYGEN_API_KEY are set.</summary>
public sealed class LiveServiceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task LiveAvatar_lists_the_sandbox_avatar_and_starts_and_stops_a_sandbox_session()
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable("LIVEAVATAR_API_KEY") is { Length: > 0 }, "LIVEAVATAR_API_KEY is not set.");
        var services = new ServiceCollection().AddLogging();
        services.AddAvatarKit().AddLiveAvatar(o =>
        {
            o.IsSandbox = true;
            o.AvatarId = LiveAvatarOptions.SandboxAvatarId;
            o.StopSessionsOnProcessExit = false;
        });
        await using var provider = services.BuildServiceProvider();
        var service = (LiveAvatarService)provider.GetRequiredService<IAvatarService>();
        var api = provider.GetRequiredService<ILiveAvatarApi>();

        var avatars = await service.ListAvatarsAsync(Ct);
        Assert.Contains(avatars, a => a.Id == LiveAvatarOptions.SandboxAvatarId);

        // API level only: joining the room needs the LiveKit binding.
        var token = (await api.CreateSessionTokenAsync(service.BuildTokenRequest(null), Ct)).Data!;
        try
        {
            var start = (await api.StartSessionAsync(token.SessionToken, Ct)).Data!;
            Assert.False(string.IsNullOrEmpty(start.LivekitUrl));
            await api.KeepAliveAsync(new SessionIdRequest(token.SessionId), Ct);
        }
        finally
        {
            await api.StopSessionAsync(new StopSessionRequest(token.SessionId, "USER_CLOSED"), CancellationToken.None);
        }

        Assert.DoesNotContain(await service.ListActiveSessionsAsync(Ct), s => s.SessionId == token.SessionId);
    }

    [Fact]
    public async Task HeyGen_streaming_lists_avatars_and_sessions()
    {
        Assert.SkipUnless(Environment.GetEnvironmentVariable("HEYGEN_API_KEY") is { Length: > 0 }, "HEYGEN_API_KEY is not set.");
        var services = new ServiceCollection().AddLogging();
        services.AddAvatarKit().AddHeyGenStreaming(o => o.StopSessionsOnProcessExit = false);
        await using var provider = services.BuildServiceProvider();
        var service = provider.GetRequiredService<IAvatarService>();

        // The API was sunset on 2026-03-31: a 404/410 is the expected answer from the public host.
        try
        {
            Assert.NotNull(await service.ListAvatarsAsync(Ct));
            Assert.NotNull(await service.ListActiveSessionsAsync(Ct));
        }
        catch (AvatarApiException ex) when (ex.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.Gone)
        {
            Assert.Skip($"The legacy Streaming API answered {(int)ex.StatusCode}: {ex.ProviderMessage}");
        }
    }
}
