using System.Net;
using System.Net.Http.Headers;
using AvatarKit.LiveKit;

namespace AvatarKit.Testing.Tests.LiveKit;

/// <summary>The fake LiveKit server's access-token checks and admin surface, over real HTTP.</summary>
public sealed class FakeLiveKitServerTests(FakeLiveKitServerFixture fixture) : IClassFixture<FakeLiveKitServerFixture>
{

    [Fact]
    public async Task A_token_it_minted_is_accepted()
    {
        var server = RequireServer();

        var (status, body) = await ValidateAsync(server, server.CreateToken("room", "alice"));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("success", body);
    }

    [Theory]
    [InlineData("wrong-secret", "invalid token signature")]
    [InlineData("wrong-key", "unknown API key")]
    [InlineData("expired", "token expired")]
    [InlineData("missing", "no access token")]
    public async Task A_bad_token_is_refused_with_the_reason(string problem, string reason)
    {
        var server = RequireServer();
        var token = problem switch
        {
            "wrong-secret" => LiveKitAccessToken.Create(server.ApiKey, "other-secret", "room", "alice"),
            "wrong-key" => LiveKitAccessToken.Create("OTHERKEY", server.ApiSecret, "room", "alice"),
            "expired" => LiveKitAccessToken.Create(server.ApiKey, server.ApiSecret, "room", "alice", lifetime: TimeSpan.FromSeconds(-60)),
            _ => null,
        };

        var (status, body) = await ValidateAsync(server, token);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains(reason, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_room_reads_as_empty_and_removing_a_stranger_fails()
    {
        var server = RequireServer();
        var ct = TestContext.Current.CancellationToken;

        var state = await server.GetRoomAsync("nobody-here", ct);

        Assert.Equal("nobody-here", state.Name);
        Assert.Empty(state.Participants);
        await Assert.ThrowsAsync<HttpRequestException>(() => server.RemoveParticipantAsync("nobody-here", "ghost", ct));
    }

    [Fact]
    public void Grants_point_at_the_server_with_a_token_for_the_identity()
    {
        var server = RequireServer();

        var grant = server.CreateGrant("room-a", "heygen");

        Assert.Equal(server.Url, grant.Url);
        Assert.Equal("ws", grant.Url.Scheme);
        Assert.Equal(3, grant.Token.Split('.').Length);
        Assert.IsType<LiveKitRoomConnector>(server.Connector);
    }

    private FakeLiveKitServer RequireServer()
    {
        Assert.SkipWhen(FakeLiveKitServer.UnavailableReason is not null, FakeLiveKitServer.UnavailableReason ?? string.Empty);
        return fixture.Server!;
    }

    private static async Task<(HttpStatusCode Status, string Body)> ValidateAsync(FakeLiveKitServer server, string? token)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"http://{server.Url.Authority}/rtc/validate"));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }
}

/// <summary>One server for the class: starting Node with its WebRTC stack takes a few seconds.</summary>
public sealed class FakeLiveKitServerFixture : IAsyncLifetime
{
    public FakeLiveKitServer? Server { get; private set; }

    public async ValueTask InitializeAsync()
    {
        if (FakeLiveKitServer.UnavailableReason is null)
        {
            Server = await FakeLiveKitServer.StartAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}
