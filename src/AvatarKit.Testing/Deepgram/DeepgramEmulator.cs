using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using AvatarKit.Testing.Voice;

namespace AvatarKit.Testing.Deepgram;

/// <summary>
/// A local Deepgram server on a loopback port (real Kestrel, real WebSockets): live
/// <c>/v1/listen</c>, pre-recorded <c>POST /v1/listen</c>, Aura <c>POST /v1/speak</c> and the speak
/// WebSocket, and <c>POST /v1/auth/grant</c>, with Deepgram's handshake checks, message shapes and
/// timing, and injectable faults (<see cref="DeepgramEmulatorOptions.Faults"/>).
/// </summary>
/// <remarks>
/// Point a client at <see cref="BaseUrl"/> with API key <see cref="DeepgramEmulatorOptions.ApiKey"/>.
/// Recognition is deterministic: speech is found by energy in the PCM the client sends, and each
/// utterance is transcribed with the next of <see cref="DeepgramEmulatorOptions.Transcripts"/>.
/// </remarks>
public sealed partial class DeepgramEmulator : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, byte> _grantedTokens = new();
    private readonly ConcurrentQueue<string> _log = new();
    private int _utteranceIndex;
    private int _listenConnections;
    private int _speakConnections;
    private int _keepAlives;
    private int _finalizes;
    private long _audioBytes;
    private EmulatorServer? _server;

    private DeepgramEmulator(DeepgramEmulatorOptions options)
    {
        Options = options;
        Voice = options.Voice ?? (EspeakTextToSpeechClient.IsAvailable ? new EspeakTextToSpeechClient() : new SyntheticTextToSpeechClient());
    }

    /// <summary>Gets the base URL (<c>http://127.0.0.1:PORT</c>) for REST and WebSocket requests.</summary>
    public Uri BaseUrl => _server?.BaseUrl ?? throw new InvalidOperationException("The emulator is not started.");

    /// <summary>Gets the settings, which tests may change while the emulator runs.</summary>
    public DeepgramEmulatorOptions Options { get; }

    /// <summary>Gets the API key the emulator accepts.</summary>
    public string ApiKey => Options.ApiKey;

    /// <summary>Gets the number of accepted live listen connections.</summary>
    public int ListenConnections => Volatile.Read(ref _listenConnections);

    /// <summary>Gets the number of accepted speak WebSocket connections.</summary>
    public int SpeakConnections => Volatile.Read(ref _speakConnections);

    /// <summary>Gets the number of <c>KeepAlive</c> messages received.</summary>
    public int KeepAlivesReceived => Volatile.Read(ref _keepAlives);

    /// <summary>Gets the number of <c>Finalize</c> messages received.</summary>
    public int FinalizesReceived => Volatile.Read(ref _finalizes);

    /// <summary>Gets the bytes of audio received on live listen connections.</summary>
    public long AudioBytesReceived => Interlocked.Read(ref _audioBytes);

    /// <summary>Gets the number of utterances transcribed (final results with words) so far.</summary>
    public int UtterancesTranscribed => Volatile.Read(ref _utteranceIndex);

    /// <summary>Gets a log of notable events (connections, close codes, faults), for test diagnostics.</summary>
    public IReadOnlyCollection<string> EventLog => _log;

    internal ITextToSpeechClient Voice { get; }

    /// <summary>Starts an emulator on <c>127.0.0.1</c> and <see cref="DeepgramEmulatorOptions.Port"/> (a free port by default).</summary>
    /// <param name="configure">Adjusts the settings before start.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running emulator; dispose it to stop.</returns>
    public static async Task<DeepgramEmulator> StartAsync(Action<DeepgramEmulatorOptions>? configure = null, CancellationToken cancellationToken = default)
    {
        var options = new DeepgramEmulatorOptions();
        configure?.Invoke(options);
        var emulator = new DeepgramEmulator(options);
        emulator._server = await EmulatorServer.StartAsync(options.Port, hooks: null, app =>
        {
            app.MapGet("/v1/listen", emulator.HandleListenSocketAsync);
            app.MapPost("/v1/listen", emulator.HandlePrerecordedAsync);
            app.MapGet("/v1/speak", emulator.HandleSpeakSocketAsync);
            app.MapPost("/v1/speak", emulator.HandleSpeakRestAsync);
            app.MapPost("/v1/auth/grant", emulator.HandleGrantAsync);
        }, cancellationToken).ConfigureAwait(false);
        return emulator;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _server?.DisposeAsync() ?? ValueTask.CompletedTask;

    internal string PeekTranscript() => TranscriptAt(Volatile.Read(ref _utteranceIndex));

    internal string TakeTranscript() => TranscriptAt(Interlocked.Increment(ref _utteranceIndex) - 1);

    internal void CountKeepAlive() => Interlocked.Increment(ref _keepAlives);

    internal void CountFinalize() => Interlocked.Increment(ref _finalizes);

    internal void CountAudio(int bytes) => Interlocked.Add(ref _audioBytes, bytes);

    internal void Log(string message) => _log.Enqueue(message);

    private string TranscriptAt(int index)
    {
        var transcripts = Options.Transcripts;
        return transcripts.Count == 0 ? "hello world" : transcripts[index % transcripts.Count];
    }

    /// <summary>Checks credentials and injected handshake faults; writes the refusal and returns false when refused.</summary>
    private async Task<bool> AuthorizeAsync(HttpContext context, string requestId)
    {
        context.Response.Headers["dg-request-id"] = requestId;
        if (Options.Faults.TryTakeHandshakeFailure(out var status))
        {
            var (code, message) = status == 429
                ? ("TOO_MANY_REQUESTS", "Too many requests. Please try again later")
                : ("INTERNAL_SERVER_ERROR", "The emulated server failed.");
            if (status == 429)
            {
                context.Response.Headers.RetryAfter = "1";
            }

            Log($"handshake refused with injected {status}");
            await RefuseAsync(context, status, code, message, requestId).ConfigureAwait(false);
            return false;
        }

        var credential = GetCredential(context);
        var valid = credential switch
        {
            ("token", var key) => key == Options.ApiKey,
            ("bearer", var token) => _grantedTokens.ContainsKey(token),
            _ => false,
        };
        if (!valid)
        {
            await RefuseAsync(context, StatusCodes.Status401Unauthorized, "INVALID_AUTH", "Invalid credentials.", requestId).ConfigureAwait(false);
        }

        return valid;
    }

    private static (string Scheme, string Value)? GetCredential(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.FirstOrDefault();
        if (header is not null)
        {
            var space = header.IndexOf(' ', StringComparison.Ordinal);
            return space <= 0 ? null : (header[..space].ToLowerInvariant(), header[(space + 1)..].Trim());
        }

        // Browsers cannot set headers: the credential travels as the subprotocol pair "token, <key>".
        var protocols = context.WebSockets.WebSocketRequestedProtocols;
        for (var i = 0; i + 1 < protocols.Count; i++)
        {
            if (protocols[i] is "token" or "bearer")
            {
                return (protocols[i], protocols[i + 1]);
            }
        }

        return null;
    }

    private static string? SelectedSubProtocol(HttpContext context) =>
        context.WebSockets.WebSocketRequestedProtocols.FirstOrDefault(p => p is "token" or "bearer");

    private static async Task RefuseAsync(HttpContext context, int status, string code, string message, string requestId)
    {
        context.Response.StatusCode = status;
        context.Response.Headers["dg-error"] = message;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(DeepgramWire.Error(code, message, requestId), context.RequestAborted).ConfigureAwait(false);
    }

    private async Task HandleGrantAsync(HttpContext context)
    {
        var requestId = Guid.NewGuid().ToString();
        if (!await AuthorizeAsync(context, requestId).ConfigureAwait(false))
        {
            return;
        }

        var token = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        _grantedTokens[token] = 0;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(DeepgramWire.Write(w =>
        {
            w.WriteString("access_token", token);
            w.WriteNumber("expires_in", 30);
        }), context.RequestAborted).ConfigureAwait(false);
    }

    private async Task HandleListenSocketAsync(HttpContext context)
    {
        var requestId = Guid.NewGuid().ToString();
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.Headers["dg-request-id"] = requestId;
            await RefuseAsync(context, StatusCodes.Status400BadRequest, "Bad Request", "Expected a WebSocket upgrade.", requestId).ConfigureAwait(false);
            return;
        }

        if (!await AuthorizeAsync(context, requestId).ConfigureAwait(false))
        {
            return;
        }

        var parameters = ListenParameters.Parse(context.Request.Query, requireRawFormat: true, out var error);
        if (parameters is null)
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest, "Bad Request", error!, requestId).ConfigureAwait(false);
            return;
        }

        var socket = await context.WebSockets.AcceptWebSocketAsync(SelectedSubProtocol(context)).ConfigureAwait(false);
        var number = Interlocked.Increment(ref _listenConnections);
        Log($"listen connection {number} opened");
        using var connection = new ListenConnection(this, context, socket, parameters, requestId, number);
        await connection.RunAsync().ConfigureAwait(false);
    }
}
