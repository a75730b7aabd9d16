using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
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
        await using var emulate = EmulateRun.Start("emulate", "--json");

        using var json = JsonDocument.Parse(await emulate.ReadLineAsync());
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
    }

    [Fact]
    public async Task Emulate_on_chosen_ports_serves_each_emulator_on_its_port()
    {
        var ports = FreePorts(4);
        await using var emulate = EmulateRun.Start(
            "emulate", "--json",
            "--liveavatar-port", ports[0].ToString(CultureInfo.InvariantCulture),
            "--heygen-port", ports[1].ToString(CultureInfo.InvariantCulture),
            "--deepgram-port", ports[2].ToString(CultureInfo.InvariantCulture),
            "--gemini-port", ports[3].ToString(CultureInfo.InvariantCulture));

        using var json = JsonDocument.Parse(await emulate.ReadLineAsync());
        var root = json.RootElement;
        Assert.Equal(new Uri($"http://127.0.0.1:{ports[0]}/"), new Uri(root.GetProperty("liveavatar").GetProperty("baseUrl").GetString()!));
        Assert.Equal(new Uri($"http://127.0.0.1:{ports[1]}/"), new Uri(root.GetProperty("heygen").GetProperty("baseUrl").GetString()!));
        Assert.Equal(new Uri($"http://127.0.0.1:{ports[2]}/"), new Uri(root.GetProperty("deepgram").GetProperty("baseUrl").GetString()!));
        Assert.Equal(new Uri($"http://127.0.0.1:{ports[3]}/"), new Uri(root.GetProperty("gemini").GetProperty("baseUrl").GetString()!));

        // Called on the chosen ports directly, not through the printed URLs.
        using var http = new HttpClient();
        using var avatars = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{ports[0]}/v1/avatars/public");
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(avatars, Ct)).StatusCode);

        using var token = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{ports[1]}/v1/streaming.create_token");
        token.Headers.Add("X-Api-Key", root.GetProperty("heygen").GetProperty("apiKey").GetString());
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(token, Ct)).StatusCode);

        using var grant = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{ports[2]}/v1/auth/grant") { Content = JsonContent.Create(new { ttl_seconds = 30 }) };
        grant.Headers.TryAddWithoutValidation("Authorization", $"Token {root.GetProperty("deepgram").GetProperty("apiKey").GetString()}");
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(grant, Ct)).StatusCode);

        using var model = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{ports[3]}/v1beta/models/gemini-2.5-flash");
        model.Headers.Add("x-goog-api-key", root.GetProperty("gemini").GetProperty("apiKey").GetString());
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(model, Ct)).StatusCode);
    }

    [Fact]
    public async Task Emulate_on_a_port_in_use_fails_with_a_clear_message()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        using var cli = new CliProcess();

        var (exitCode, output) = await cli.RunAsync(["emulate", "--gemini-port", port.ToString(CultureInfo.InvariantCulture)], cancellationToken: Ct);

        Assert.Equal(1, exitCode);
        Assert.Contains("The emulators could not start", output, StringComparison.Ordinal);
        Assert.Contains(port.ToString(CultureInfo.InvariantCulture), output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1279x720")]
    [InlineData("1280")]
    [InlineData("8x8")]
    [InlineData("1280x-720")]
    public async Task Emulate_with_a_bad_video_size_is_a_usage_error(string size)
    {
        using var cli = new CliProcess();

        var (exitCode, output) = await cli.RunAsync(["emulate", "--video-size", size], cancellationToken: Ct);

        Assert.Equal(2, exitCode);
        Assert.Contains("--video-size must be WIDTHxHEIGHT", output, StringComparison.Ordinal);
    }

    /// <summary>
    /// Distinct ports free now, below the range the OS hands out for port 0 and outgoing connections: between their
    /// release here and the CLI's bind, no other test's server or HTTP connection (in this or a parallel test run)
    /// can be given one of them, as it could a port the OS picked.
    /// </summary>
    private static int[] FreePorts(int count)
    {
        var ephemeralStart = 32768;
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        if (File.Exists(range) && int.TryParse(File.ReadAllText(range).Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture, out var start))
        {
            ephemeralStart = start;
        }

        var ports = new List<int>();
        while (ports.Count < count)
        {
            var port = Random.Shared.Next(Math.Max(1024, ephemeralStart - 12_000), ephemeralStart);
            if (ports.Contains(port))
            {
                continue;
            }

            using var probe = new TcpListener(IPAddress.Loopback, port);
            try
            {
                probe.Start();
                ports.Add(port);
            }
            catch (SocketException)
            {
                // Taken by something else on this machine: try another.
            }
        }

        return [.. ports];
    }

    /// <summary>
    /// <c>avatarkit emulate</c> running as a process, its stdout read line by line. Disposing sends Ctrl+C; a CLI still
    /// running 30 s later is killed and the test fails (a hang guard).
    /// </summary>
    private sealed class EmulateRun : IAsyncDisposable
    {
        private readonly CliProcess _cli = new();
        private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
        private readonly CancellationTokenSource _graceful = new();
        private readonly CancellationTokenSource _forceful = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        private Task? _run;

        public static EmulateRun Start(params string[] arguments)
        {
            var emulate = new EmulateRun();
            emulate._run = emulate._cli.Command(arguments)
                .WithStandardOutputPipe(PipeTarget.ToDelegate(line => emulate._lines.Writer.TryWrite(line)))
                .ExecuteAsync(emulate._forceful.Token, emulate._graceful.Token);
            return emulate;
        }

        /// <summary>Reads the next stdout line (a 60 s hang guard).</summary>
        public async Task<string> ReadLineAsync()
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(60));
            return await _lines.Reader.ReadAsync(timeout.Token);
        }

        public async ValueTask DisposeAsync()
        {
            await _graceful.CancelAsync();
            _forceful.CancelAfter(TimeSpan.FromSeconds(30));
            try
            {
                await _run!;
            }
            catch (OperationCanceledException) when (!_forceful.IsCancellationRequested)
            {
                // CliWrap reports a graceful cancellation as cancelled; the process got SIGINT and exited.
            }
            finally
            {
                _graceful.Dispose();
                _forceful.Dispose();
                _cli.Dispose();
            }
        }
    }
}
