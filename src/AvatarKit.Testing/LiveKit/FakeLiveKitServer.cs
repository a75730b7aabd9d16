using System.Diagnostics;
using System.Net.Http.Json;
using System.Security.Cryptography;
using AvatarKit.LiveKit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AvatarKit.Testing;

/// <summary>
/// A fake LiveKit server on 127.0.0.1 that LiveKit's unmodified client SDKs (ours included) join
/// over real WebRTC: signaling, access-token checks (HS256, grants), and forwarding of audio,
/// video and data between the participants of a room. It runs as a Node.js child process.
/// </summary>
/// <remarks>
/// The server script's npm packages (pinned by its lock file: <c>ws</c>, <c>@livekit/protocol</c>,
/// <c>werift</c>) are installed with <c>npm ci</c> into a cache folder outside the repository at
/// first use (<c>AVATARKIT_CACHE</c>, else the user's cache folder). Requires Node.js 18+ and npm.
/// </remarks>
public sealed partial class FakeLiveKitServer : IEmulatorRoomHost, IAsyncDisposable
{
    private static readonly string[] ServerFiles = ["fake-livekit-server.mjs", "package.json", "package-lock.json"];
    private static readonly Lazy<string?> Unavailable = new(FindUnavailableReason);
    private static readonly SemaphoreSlim InstallGate = new(1, 1);

    private readonly Process _process;
    private readonly HttpClient _admin;
    private readonly ILogger _logger;
    private int _disposed;

    private FakeLiveKitServer(Process process, int port, string apiKey, string apiSecret, IRealtimeRoomConnector connector, ILogger logger)
    {
        _process = process;
        _logger = logger;
        Url = new Uri($"ws://127.0.0.1:{port}");
        ApiKey = apiKey;
        ApiSecret = apiSecret;
        Connector = connector;
        _admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/admin/"), Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>Gets why the server cannot run here (Node.js or npm missing), or <see langword="null"/> when it can.</summary>
    public static string? UnavailableReason => Unavailable.Value;

    /// <summary>Gets the server URL clients join (<c>ws://127.0.0.1:port</c>).</summary>
    public Uri Url { get; }

    /// <summary>Gets the API key tokens must be issued by.</summary>
    public string ApiKey { get; }

    /// <summary>Gets the API secret tokens must be signed with (random per server).</summary>
    public string ApiSecret { get; }

    /// <inheritdoc />
    public IRealtimeRoomConnector Connector { get; }

    /// <summary>Starts a server on a free loopback port.</summary>
    /// <param name="loggerFactory">Receives the server's and the connector's log lines; none when null.</param>
    /// <param name="cancellationToken">Cancels starting.</param>
    /// <returns>The running server; dispose it to stop.</returns>
    /// <exception cref="InvalidOperationException">Node.js or npm is missing, or the server did not start.</exception>
    public static Task<FakeLiveKitServer> StartAsync(ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default) =>
        StartAsync(0, loggerFactory, cancellationToken);

    /// <summary>Starts a server on a chosen loopback port.</summary>
    /// <param name="port">The port; 0 lets the OS choose a free one.</param>
    /// <param name="loggerFactory">Receives the server's and the connector's log lines; none when null.</param>
    /// <param name="cancellationToken">Cancels starting.</param>
    /// <returns>The running server; dispose it to stop.</returns>
    /// <exception cref="InvalidOperationException">Node.js or npm is missing, or the server did not start (e.g. the port is in use).</exception>
    public static async Task<FakeLiveKitServer> StartAsync(int port, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, System.Net.IPEndPoint.MaxPort);
        if (UnavailableReason is { } reason)
        {
            throw new InvalidOperationException(reason);
        }

        loggerFactory ??= NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger<FakeLiveKitServer>();
        var directory = await InstallAsync(cancellationToken).ConfigureAwait(false);
        var apiKey = "AK" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6));
        var apiSecret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
        var start = new ProcessStartInfo("node", [Path.Combine(directory, "fake-livekit-server.mjs")])
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["FAKE_LIVEKIT_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["FAKE_LIVEKIT_API_KEY"] = apiKey;
        start.Environment["FAKE_LIVEKIT_API_SECRET"] = apiSecret;
        start.Environment["FAKE_LIVEKIT_VERBOSE"] = logger.IsEnabled(LogLevel.Debug) ? "1" : "0";
        var process = Process.Start(start) ?? throw new InvalidOperationException("The fake LiveKit server (node) did not start.");
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { Length: > 0 } line)
            {
                LogServerLine(logger, line);
            }
        };
        process.BeginErrorReadLine();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            var line = await process.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false);
            if (line is null || !line.StartsWith("listening ", StringComparison.Ordinal) || !int.TryParse(line.AsSpan(10), out var listening))
            {
                throw new InvalidOperationException($"The fake LiveKit server did not start (first output: '{line}').");
            }

            var connector = new LiveKitRoomConnector(loggerFactory: loggerFactory);
            return new FakeLiveKitServer(process, listening, apiKey, apiSecret, connector, logger);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public EmulatorRoomGrant CreateGrant(string roomName, string identity) => new(Url, CreateToken(roomName, identity));

    /// <summary>Mints a token this server accepts.</summary>
    /// <param name="roomName">The room.</param>
    /// <param name="identity">The participant identity.</param>
    /// <param name="canPublish">Whether the participant may publish tracks.</param>
    /// <param name="canPublishData">Whether the participant may send data.</param>
    /// <param name="lifetime">How long the token is valid (default 1 hour).</param>
    /// <returns>The token.</returns>
    public string CreateToken(string roomName, string identity, bool canPublish = true, bool canPublishData = true, TimeSpan? lifetime = null) =>
        LiveKitAccessToken.Create(ApiKey, ApiSecret, roomName, identity, lifetime, canPublish, canSubscribe: true, canPublishData);

    /// <summary>Disconnects a participant from the server side (as LiveKit's RemoveParticipant does).</summary>
    /// <param name="roomName">The room.</param>
    /// <param name="identity">The participant.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the server sent the leave.</returns>
    public async Task RemoveParticipantAsync(string roomName, string identity, CancellationToken cancellationToken = default)
    {
        using var response = await _admin.PostAsync(new Uri($"rooms/{Uri.EscapeDataString(roomName)}/participants/{Uri.EscapeDataString(identity)}/remove", UriKind.Relative), null, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Sets the connection quality the server reports for a participant (excellent until set), and reports it at once.</summary>
    /// <param name="roomName">The room.</param>
    /// <param name="identity">The participant.</param>
    /// <param name="quality">One of LiveKit's qualities: <c>poor</c>, <c>good</c>, <c>excellent</c>, <c>lost</c>.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the quality is set.</returns>
    public async Task SetConnectionQualityAsync(string roomName, string identity, string quality, CancellationToken cancellationToken = default)
    {
        var path = $"rooms/{Uri.EscapeDataString(roomName)}/participants/{Uri.EscapeDataString(identity)}/quality?value={Uri.EscapeDataString(quality)}";
        using var response = await _admin.PostAsync(new Uri(path, UriKind.Relative), null, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Cuts a participant's signal WebSocket without a leave, as a network failure would; its peer connections stay up.</summary>
    /// <param name="roomName">The room.</param>
    /// <param name="identity">The participant.</param>
    /// <param name="refuseResume">Refuse the client's resume attempt, so that it reconnects from scratch with a new join.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the socket is cut.</returns>
    public async Task DropSignalAsync(string roomName, string identity, bool refuseResume = false, CancellationToken cancellationToken = default)
    {
        var path = $"rooms/{Uri.EscapeDataString(roomName)}/participants/{Uri.EscapeDataString(identity)}/drop-signal{(refuseResume ? "?resume=refuse" : string.Empty)}";
        using var response = await _admin.PostAsync(new Uri(path, UriKind.Relative), null, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>
    /// Cuts a participant's media path, as when the network path for media dies while the signal
    /// socket stays up: every datagram to or from its peer connections (publisher and subscriber) is
    /// dropped from now on, with no signal message and no DTLS or SCTP close.
    /// </summary>
    /// <remarks>
    /// The client notices only when its peer connections fail (libwebrtc's ICE timeouts, about 15 s
    /// later), then resumes (or, when both connections fail at once, LiveKit's SDK reconnects from
    /// scratch); the server restarts the subscriber's ICE on the resume, as LiveKit does, and the new
    /// ICE sessions (new credentials) get through, as a new network path would.
    /// <paramref name="recovery"/> chooses what the server does instead.
    /// </remarks>
    /// <param name="roomName">The room.</param>
    /// <param name="identity">The participant.</param>
    /// <param name="recovery">How the server answers the client's attempt to recover.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the media path is cut.</returns>
    public async Task CutMediaAsync(string roomName, string identity, FakeLiveKitRecovery recovery = FakeLiveKitRecovery.Resume, CancellationToken cancellationToken = default)
    {
        var value = recovery switch
        {
            FakeLiveKitRecovery.Resume => "resume",
            FakeLiveKitRecovery.Reconnect => "reconnect",
            FakeLiveKitRecovery.Refuse => "refuse",
            _ => throw new ArgumentOutOfRangeException(nameof(recovery), recovery, "Unknown recovery."),
        };
        var path = $"rooms/{Uri.EscapeDataString(roomName)}/participants/{Uri.EscapeDataString(identity)}/cut-media?recover={value}";
        using var response = await _admin.PostAsync(new Uri(path, UriKind.Relative), null, cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Reads what the server knows of a room: participants, their tracks and packet counts, data seen.</summary>
    /// <param name="roomName">The room.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The room's state.</returns>
    public async Task<FakeLiveKitRoomState> GetRoomAsync(string roomName, CancellationToken cancellationToken = default) =>
        await _admin.GetFromJsonAsync<FakeLiveKitRoomState>(new Uri($"rooms/{Uri.EscapeDataString(roomName)}", UriKind.Relative), cancellationToken).ConfigureAwait(false)
        ?? throw new InvalidOperationException("The fake LiveKit server returned no room state.");

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _admin.Dispose();
        try
        {
            _process.StandardInput.Close(); // the server exits when its stdin ends
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            LogStopFailed(_logger, ex);
            _process.Kill(entireProcessTree: true);
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static string? FindUnavailableReason()
    {
        foreach (var tool in new[] { "node", "npm" })
        {
            var found = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Any(dir => File.Exists(Path.Combine(dir, tool)) || File.Exists(Path.Combine(dir, tool + ".exe")) || File.Exists(Path.Combine(dir, tool + ".cmd")));
            if (!found)
            {
                return $"The fake LiveKit server needs Node.js and npm; '{tool}' is not on PATH (./build.sh installs them).";
            }
        }

        return null;
    }

    // Extracts the server files and runs `npm ci` once per content version into the cache folder.
    private static async Task<string> InstallAsync(CancellationToken cancellationToken)
    {
        var assembly = typeof(FakeLiveKitServer).Assembly;
        var files = ServerFiles.ToDictionary(name => name, name =>
        {
            using var stream = assembly.GetManifestResourceStream($"AvatarKit.Testing.LiveKit.{name}")
                ?? throw new InvalidOperationException($"The fake LiveKit server file {name} is missing from the assembly.");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        });
        var version = Convert.ToHexString(SHA256.HashData(files.Values.SelectMany(b => b).ToArray()))[..16].ToLowerInvariant();
        var cache = Environment.GetEnvironmentVariable("AVATARKIT_CACHE") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "avatarkit");
        var directory = Path.Combine(cache, $"fake-livekit-server-{version}");
        var marker = Path.Combine(directory, "node_modules", ".avatarkit-installed");
        if (File.Exists(marker))
        {
            return directory;
        }

        await InstallGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Directory.CreateDirectory(directory);

            // Another test process may install at the same time: an exclusive lock file serializes them.
            await using var lockFile = await OpenExclusiveAsync(Path.Combine(directory, ".install-lock"), cancellationToken).ConfigureAwait(false);
            if (File.Exists(marker))
            {
                return directory;
            }

            foreach (var (name, bytes) in files)
            {
                await File.WriteAllBytesAsync(Path.Combine(directory, name), bytes, cancellationToken).ConfigureAwait(false);
            }

            var npm = new ProcessStartInfo(OperatingSystem.IsWindows() ? "npm.cmd" : "npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts", "--silent"])
            {
                WorkingDirectory = directory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(npm) ?? throw new InvalidOperationException("npm did not start.");
            var errors = process.StandardError.ReadToEndAsync(cancellationToken);
            _ = process.StandardOutput.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"Installing the fake LiveKit server's npm packages failed (npm ci exit {process.ExitCode}): {await errors.ConfigureAwait(false)}");
            }

            await File.WriteAllTextAsync(marker, version, cancellationToken).ConfigureAwait(false);
            return directory;
        }
        finally
        {
            InstallGate.Release();
        }
    }

    private static async Task<FileStream> OpenExclusiveAsync(string path, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "fake-livekit: {Line}")]
    private static partial void LogServerLine(ILogger logger, string line);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "The fake LiveKit server did not stop by itself; killed it")]
    private static partial void LogStopFailed(ILogger logger, Exception exception);
}

/// <summary>What the fake LiveKit server knows of a room.</summary>
/// <param name="Name">The room name.</param>
/// <param name="Participants">The participants connected now.</param>
/// <param name="Data">The last data packets participants sent (up to 100).</param>
public sealed record FakeLiveKitRoomState(string Name, IReadOnlyList<FakeLiveKitParticipantState> Participants, IReadOnlyList<FakeLiveKitDataPacket> Data);

/// <summary>A participant as the fake LiveKit server sees it.</summary>
/// <param name="Identity">The identity.</param>
/// <param name="Sid">The server's id.</param>
/// <param name="DataReceived">How many data packets the server received from it.</param>
/// <param name="Tracks">The tracks it publishes.</param>
public sealed record FakeLiveKitParticipantState(string Identity, string Sid, int DataReceived, IReadOnlyList<FakeLiveKitTrackState> Tracks)
{
    /// <summary>Gets how many times the participant resumed its session on a new signal socket.</summary>
    public int Resumes { get; init; }

    /// <summary>Gets how many SyncState messages the participant sent (one per resume).</summary>
    public int SyncStates { get; init; }

    /// <summary>Gets how many offers it sent for its publisher connection (a resume adds an ICE-restart offer).</summary>
    public int PublisherOffers { get; init; }

    /// <summary>Gets a value indicating whether its signal socket is open now.</summary>
    public bool SignalConnected { get; init; }

    /// <summary>Gets how many ICE-restart offers the server sent for its subscriber connection (one per resume).</summary>
    public int SubscriberIceRestarts { get; init; }

    /// <summary>Gets how many times its media path was cut (<see cref="FakeLiveKitServer.CutMediaAsync"/>).</summary>
    public int MediaCuts { get; init; }
}

/// <summary>How the fake LiveKit server answers a client recovering from a media cut (<see cref="FakeLiveKitServer.CutMediaAsync"/>).</summary>
public enum FakeLiveKitRecovery
{
    /// <summary>Resume the session: the ICE restarts of both peer connections find a new path.</summary>
    Resume,

    /// <summary>Refuse the resume with <c>leave { action: RECONNECT }</c>, so that the client joins again from scratch (new session, new peer connections).</summary>
    Reconnect,

    /// <summary>
    /// Give the session up 5 s after the cut, before the client notices (its ICE gives up after about 15 s):
    /// <c>leave { action: DISCONNECT, reason: MEDIA_FAILURE }</c> on the signal socket, and the participant is removed.
    /// </summary>
    Refuse,
}

/// <summary>A published track as the fake LiveKit server sees it.</summary>
/// <param name="Sid">The track id.</param>
/// <param name="Name">The track name.</param>
/// <param name="Kind"><c>audio</c> or <c>video</c>.</param>
/// <param name="Packets">RTP packets received from the publisher.</param>
/// <param name="Subscribers">Identities the track is forwarded to.</param>
public sealed record FakeLiveKitTrackState(string Sid, string Name, string Kind, long Packets, IReadOnlyList<string> Subscribers);

/// <summary>A data packet a participant sent through the fake LiveKit server.</summary>
/// <param name="From">The sender's identity.</param>
/// <param name="Topic">The topic, if any.</param>
/// <param name="Payload">The payload, base64.</param>
/// <param name="Destinations">The destination identities; everyone when empty.</param>
public sealed record FakeLiveKitDataPacket(string From, string? Topic, string Payload, IReadOnlyList<string> Destinations);
