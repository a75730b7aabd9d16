using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AvatarKit.HeyGen;

/// <summary>The legacy HeyGen Streaming API v1 (LiveKit transport) behind <see cref="IAvatarService"/>.</summary>
internal sealed partial class HeyGenStreamingService : IAvatarService, IAsyncDisposable
{
    private readonly IHeyGenStreamingApi _api;
    private readonly HeyGenStreamingOptions _options;
    private readonly AvatarKitOptions _kit;
    private readonly IRealtimeRoomConnector? _connector;
    private readonly ITextToSpeechClient? _textToSpeech;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly AvatarSessionManager _manager;

    public HeyGenStreamingService(
        IHeyGenStreamingApi api,
        IOptions<HeyGenStreamingOptions> options,
        IOptions<AvatarKitOptions>? kit = null,
        IRealtimeRoomConnector? connector = null,
        ILoggerFactory? loggers = null,
        ITextToSpeechClient? textToSpeech = null)
    {
        _api = api;
        _options = options.Value;
        _kit = kit?.Value ?? new AvatarKitOptions();
        _connector = connector;
        _textToSpeech = textToSpeech;
        _loggers = loggers ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger<HeyGenStreamingService>();
        _manager = new AvatarSessionManager(_options.MaxConcurrentSessions, _options.StopSessionsOnProcessExit, _logger);
    }

    public async Task<IReadOnlyList<AvatarInfo>> ListAvatarsAsync(CancellationToken cancellationToken = default)
    {
        var avatars = (await _api.ListAvatarsAsync(cancellationToken).ConfigureAwait(false)).Data ?? [];
        return [.. avatars.Select(a => new AvatarInfo(a.AvatarId, a.AvatarId) { IsPublic = a.IsPublic ?? false })];
    }

    public async Task<IReadOnlyList<AvatarSessionInfo>> ListActiveSessionsAsync(CancellationToken cancellationToken = default)
    {
        var sessions = (await _api.ListSessionsAsync(cancellationToken).ConfigureAwait(false)).Data?.Sessions ?? [];
        return [.. sessions
            .Where(s => s.Status != "closed")
            .Select(s => new AvatarSessionInfo(s.SessionId) { Status = s.Status, CreatedAt = s.CreatedAt is { } at ? DateTimeOffset.FromUnixTimeSeconds(at) : null })];
    }

    public async Task<int> CloseAllSessionsAsync(CancellationToken cancellationToken = default)
    {
        var own = _manager.OpenSessions;
        foreach (var session in own)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }

        return own.Count + await StopOthersAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<IAvatarSession> StartSessionAsync(AvatarSessionOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = BuildNewRequest(options);
        if (_options.UseRealtimeEndpoint && _textToSpeech is null)
        {
            throw new InvalidOperationException("UseRealtimeEndpoint speaks with your own voice: register an ITextToSpeechClient (e.g. .AddDeepgram()) or turn it off.");
        }

        // Task mode hears the avatar's speaking events on the room's data channel; the realtime endpoint reports them itself.
        if (!_options.UseRealtimeEndpoint && _connector is null)
        {
            throw new InvalidOperationException("HeyGen streaming sessions are watched and steered through their room: register an IRealtimeRoomConnector (e.g. .AddLiveKit()).");
        }

        using var lease = await _manager.BeginStartAsync(_options.ReclaimStaleSessions ? StopOthersAsync : null, cancellationToken).ConfigureAwait(false);
        NewSessionData created;
        try
        {
            created = (await _api.NewSessionAsync(request, cancellationToken).ConfigureAwait(false)).Data
                ?? throw new AvatarApiException("HeyGen returned no session for streaming.new.");
        }
        catch (AvatarSessionLimitException limit)
        {
            throw await _manager.ExplainLimitAsync(limit, "HeyGen", ListActiveSessionsAsync, "AvatarKit:HeyGenStreaming:ReclaimStaleSessions", cancellationToken).ConfigureAwait(false);
        }

        var session = new HeyGenStreamingSession(created, _options, _api, _manager, _textToSpeech, _loggers.CreateLogger("AvatarKit.HeyGen.HeyGenStreamingSession"));
        _manager.Register(session);
        try
        {
            await session.ConnectAsync(_connector, cancellationToken).ConfigureAwait(false);
            LogStarted(_logger, session.SessionId, request.AvatarId);
            return session;
        }
        catch
        {
            // A created session counts against the concurrency limit until stopped.
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(HeyGenStreamingOptions) ? _options
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public async ValueTask DisposeAsync()
    {
        await _manager.CloseAllAsync().ConfigureAwait(false);
        _manager.Dispose();
    }

    internal NewSessionRequest BuildNewRequest(AvatarSessionOptions? options)
    {
        var avatarId = options?.AvatarId ?? _options.AvatarId ?? _kit.DefaultAvatarId
            ?? throw new InvalidOperationException("No avatar to start: set AvatarSessionOptions.AvatarId, AvatarKit:HeyGenStreaming:AvatarId or DEFAULT_AVATAR_ID.");
        var voice = options?.VoiceId ?? _options.VoiceId;
        return new NewSessionRequest
        {
            AvatarId = avatarId,
            Quality = (options?.Quality ?? _options.Quality ?? _kit.DefaultQuality)?.ToString().ToLowerInvariant(),
            Voice = voice is null ? null : new StreamingVoice(voice, null, null),
            Language = options?.Language ?? _options.Language,
            KnowledgeBaseId = _options.KnowledgeBaseId,
            VideoEncoding = _options.VideoEncoding,
            ActivityIdleTimeout = _options.ActivityIdleTimeout is { } idle ? (int)idle.TotalSeconds : null,
        };
    }

    private async Task<int> StopOthersAsync(CancellationToken cancellationToken)
    {
        var stopped = 0;
        foreach (var session in (await ListActiveSessionsAsync(cancellationToken).ConfigureAwait(false)).Where(s => !_manager.Owns(s.SessionId)))
        {
            await _api.StopSessionAsync(new StreamingSessionRequest(session.SessionId), cancellationToken).ConfigureAwait(false);
            stopped++;
        }

        return stopped;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "HeyGen streaming session {SessionId} started (avatar {AvatarId}).")]
    private static partial void LogStarted(ILogger logger, string sessionId, string avatarId);
}
