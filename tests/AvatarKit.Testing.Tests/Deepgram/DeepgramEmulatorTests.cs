using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using AvatarKit.Testing.Deepgram;

namespace AvatarKit.Testing.Tests.Deepgram;

/// <summary>The emulator's wire behaviour, checked with raw HTTP and WebSocket clients (no Deepgram client code).</summary>
public sealed class DeepgramEmulatorTests : IAsyncLifetime
{
    private DeepgramEmulator _emulator = null!;

    public async ValueTask InitializeAsync() => _emulator = await DeepgramEmulator.StartAsync(cancellationToken: Token);

    public async ValueTask DisposeAsync() => await _emulator.DisposeAsync();

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private Uri ListenUri(string query) => new($"ws://{_emulator.BaseUrl.Authority}/v1/listen?{query}");

    [Fact]
    public async Task A_browser_style_subprotocol_credential_is_accepted_and_token_is_selected()
    {
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("token");
        socket.Options.AddSubProtocol(_emulator.Options.ApiKey);

        await socket.ConnectAsync(ListenUri("model=nova-3&encoding=linear16&sample_rate=16000&unknown_param=1"), Token);

        Assert.Equal("token", socket.SubProtocol);

        // The server counts the connection once its accept returns, which may be just after the client's.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        while (_emulator.ListenConnections == 0)
        {
            await Task.Delay(10, deadline.Token);
        }

        Assert.Equal(1, _emulator.ListenConnections);
    }

    [Fact]
    public async Task A_refused_upgrade_carries_dg_error_dg_request_id_and_the_error_body()
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_emulator.BaseUrl, "/v1/listen?model=nova-3&encoding=linear16"));
        request.Headers.Add("Authorization", $"Token {_emulator.Options.ApiKey}");
        request.Headers.Add("Connection", "Upgrade");
        request.Headers.Add("Upgrade", "websocket");
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(Guid.NewGuid().ToByteArray()));

        using var response = await http.SendAsync(request, Token);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("sample_rate", response.Headers.GetValues("dg-error").Single(), StringComparison.Ordinal);
        Assert.True(Guid.TryParse(response.Headers.GetValues("dg-request-id").Single(), out _));
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Token);
        Assert.Equal("Bad Request", body.GetProperty("err_code").GetString());
    }

    [Fact]
    public async Task Keywords_with_nova_3_are_refused()
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Token {_emulator.Options.ApiKey}");
        socket.Options.CollectHttpResponseDetails = true;

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(ListenUri("model=nova-3&encoding=linear16&sample_rate=16000&keywords=a:2"), Token));

        Assert.Equal(HttpStatusCode.BadRequest, socket.HttpStatusCode);
    }

    [Fact]
    public async Task CloseStream_after_silence_answers_with_Metadata_then_close_1000()
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Token {_emulator.Options.ApiKey}");
        await socket.ConnectAsync(ListenUri("model=nova-3&encoding=linear16&sample_rate=16000"), Token);

        await socket.SendAsync(new byte[32_000], WebSocketMessageType.Binary, true, Token);
        await socket.SendAsync("""{"type":"CloseStream"}"""u8.ToArray(), WebSocketMessageType.Text, true, Token);
        var buffer = new byte[8192];
        var first = await socket.ReceiveAsync(buffer, Token);
        var metadata = JsonDocument.Parse(Encoding.UTF8.GetString(buffer, 0, first.Count)).RootElement;
        var close = await socket.ReceiveAsync(buffer, Token);

        Assert.Equal("Metadata", metadata.GetProperty("type").GetString());
        Assert.Equal(1.0, metadata.GetProperty("duration").GetDouble(), 3);
        Assert.Equal(WebSocketMessageType.Close, close.MessageType);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
    }

    [Fact]
    public async Task The_speak_socket_sends_Metadata_on_open()
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Token {_emulator.Options.ApiKey}");
        await socket.ConnectAsync(new Uri($"ws://{_emulator.BaseUrl.Authority}/v1/speak?model=aura-2-thalia-en&encoding=linear16&sample_rate=24000"), Token);

        var buffer = new byte[8192];
        var received = await socket.ReceiveAsync(buffer, Token);
        var message = JsonDocument.Parse(Encoding.UTF8.GetString(buffer, 0, received.Count)).RootElement;

        Assert.Equal("Metadata", message.GetProperty("type").GetString());
        Assert.Equal("aura-2-thalia-en", message.GetProperty("model_name").GetString());
    }

    [Fact]
    public async Task A_granted_temporary_token_authenticates_as_Bearer()
    {
        using var http = new HttpClient();
        using var grant = new HttpRequestMessage(HttpMethod.Post, new Uri(_emulator.BaseUrl, "/v1/auth/grant"));
        grant.Headers.Add("Authorization", $"Token {_emulator.Options.ApiKey}");
        using var granted = await http.SendAsync(grant, Token);
        var token = (await granted.Content.ReadFromJsonAsync<JsonElement>(Token)).GetProperty("access_token").GetString();
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");

        await socket.ConnectAsync(ListenUri("model=nova-3&encoding=linear16&sample_rate=16000"), Token);

        Assert.Equal(WebSocketState.Open, socket.State);
    }
}
