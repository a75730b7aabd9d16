using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using CliWrap;

namespace AvatarKit.Cli.Tests;

public sealed class EmulateTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Emulate_json_prints_urls_that_answer_and_stops_on_ctrl_c()
    {
        using var cli = new CliProcess();
        var lines = Channel.CreateUnbounded<string>();
        using var graceful = new CancellationTokenSource();
        var run = cli.Command("emulate", "--json")
            .WithStandardOutputPipe(PipeTarget.ToDelegate(line => lines.Writer.TryWrite(line)))
            .ExecuteAsync(Ct, graceful.Token);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var first = await lines.Reader.ReadAsync(timeout.Token);
        using var json = JsonDocument.Parse(first);
        var root = json.RootElement;
        using var http = new HttpClient();

        var liveAvatar = root.GetProperty("liveavatar");
        using var avatars = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(liveAvatar.GetProperty("baseUrl").GetString()!), "v1/avatars/public"));
        Assert.True((await http.SendAsync(avatars, Ct)).IsSuccessStatusCode);

        var gemini = root.GetProperty("gemini");
        using var models = new HttpRequestMessage(HttpMethod.Get, new Uri(new Uri(gemini.GetProperty("baseUrl").GetString()!), "v1beta/models"));
        models.Headers.Add("x-goog-api-key", gemini.GetProperty("apiKey").GetString());
        Assert.True((await http.SendAsync(models, Ct)).IsSuccessStatusCode);

        var deepgram = root.GetProperty("deepgram");
        using var grant = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(deepgram.GetProperty("baseUrl").GetString()!), "v1/auth/grant")) { Content = JsonContent.Create(new { ttl_seconds = 30 }) };
        grant.Headers.TryAddWithoutValidation("Authorization", $"Token {deepgram.GetProperty("apiKey").GetString()}");
        Assert.True((await http.SendAsync(grant, Ct)).IsSuccessStatusCode);

        var heyGen = root.GetProperty("heygen");
        using var token = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(heyGen.GetProperty("baseUrl").GetString()!), "v1/streaming.create_token"));
        token.Headers.Add("X-Api-Key", heyGen.GetProperty("apiKey").GetString());
        Assert.True((await http.SendAsync(token, Ct)).IsSuccessStatusCode);

        Assert.True(root.TryGetProperty("livekit", out _));
        await graceful.CancelAsync();
        try
        {
            await run;
        }
        catch (OperationCanceledException)
        {
            // CliWrap reports a graceful cancellation as cancelled; the process got SIGINT and exited.
        }
    }
}
