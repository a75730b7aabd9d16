using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AvatarKit.HeyGen;

/// <summary>LiveAvatar (FULL and LITE) behind <see cref="IAvatarService"/>.</summary>
internal sealed partial class LiveAvatarService : IAvatarService, ILiveAvatarCatalog, IAsyncDisposable
{
    private readonly ILiveAvatarApi _api;
    private readonly LiveAvatarOptions _options;
    private readonly AvatarKitOptions _kit;
    private readonly IRealtimeRoomConnector? _connector;
    private readonly ITextToSpeechClient? _textToSpeech;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly AvatarSessionManager _manager;
    private readonly CreditLedger _credits;

    public LiveAvatarService(
        ILiveAvatarApi api,
        IOptions<LiveAvatarOptions> options,
        IOptions<AvatarKitOptions>? kit = null,
        IRealtimeRoomConnector? connector = null,
        ITextToSpeechClient? textToSpeech = null,
        ILoggerFactory? loggers = null)
    {
        _api = api;
        _options = options.Value;
        _kit = kit?.Value ?? new AvatarKitOptions();
        _connector = connector;
        _textToSpeech = textToSpeech;
        _loggers = loggers ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger<LiveAvatarService>();
        _manager = new AvatarSessionManager(_options.MaxConcurrentSessions, _options.StopSessionsOnProcessExit, _logger);
        _credits = new CreditLedger(_options.CreditCap);
    }

    internal AvatarSessionManager Manager => _manager;

    public async Task<IReadOnlyList<AvatarInfo>> ListAvatarsAsync(CancellationToken cancellationToken = default)
    {
        var publicAvatars = await ReadAllAsync((page, ct) => _api.ListPublicAvatarsAsync(page, 100, ct), cancellationToken).ConfigureAwait(false);
        var userAvatars = await ReadAllAsync((page, ct) => _api.ListUserAvatarsAsync(page, 100, ct), cancellationToken).ConfigureAwait(false);
        return [.. userAvatars.Select(a => ToInfo(a, isPublic: false)), .. publicAvatars.Select(a => ToInfo(a, isPublic: true))];
    }

    public async Task<IReadOnlyList<AvatarVoiceInfo>> ListVoicesAsync(bool privateVoices = false, CancellationToken cancellationToken = default)
    {
        var voices = await ReadAllAsync((page, ct) => _api.ListVoicesAsync(privateVoices ? "private" : "public", page, 100, ct), cancellationToken).ConfigureAwait(false);
        return [.. voices.Select(v => new AvatarVoiceInfo(v.Id, v.Name) { Language = v.Language, Gender = v.Gender })];
    }

    public async Task<IReadOnlyList<AvatarContextInfo>> ListContextsAsync(CancellationToken cancellationToken = default)
    {
        var contexts = await ReadAllAsync((page, ct) => _api.ListContextsAsync(page, 100, ct), cancellationToken).ConfigureAwait(false);
        return [.. contexts.Select(c => new AvatarContextInfo(c.Id, c.Name))];
    }

    public async Task<IReadOnlyList<AvatarSessionInfo>> ListActiveSessionsAsync(CancellationToken cancellationToken = default)
    {
        var sessions = await ReadAllAsync((page, ct) => _api.ListSessionsAsync("active", page, 100, ct), cancellationToken).ConfigureAwait(false);
        return [.. sessions.Select(s => new AvatarSessionInfo(s.Id) { Status = "active", CreatedAt = s.CreatedAt })];
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
        var request = BuildTokenRequest(options);
        if (_options.Mode == LiveAvatarMode.Lite && _textToSpeech is null)
        {
            throw new InvalidOperationException("LiveAvatar LITE mode speaks with your own voice: register an ITextToSpeechClient (e.g. .AddDeepgram()) or use FULL mode.");
        }

        if (_options.Mode == LiveAvatarMode.Full && _connector is null)
        {
            throw new InvalidOperationException("LiveAvatar FULL mode is steered over the room's data channel: register an IRealtimeRoomConnector (e.g. .AddLiveKit()).");
        }

        var rate = LiveAvatarCredits.RatePerMinute(_options.Mode, _options.IsSandbox);
        if (!_credits.CanCharge(rate))
        {
            throw new AvatarSessionLimitException(
                $"The credit cap of {_options.CreditCap} is reached ({_credits.Total} estimated credits used; a {_options.Mode} session needs {rate} per minute). Raise LiveAvatarOptions.CreditCap or use the sandbox.");
        }

        using var lease = await _manager.BeginStartAsync(_options.ReclaimStaleSessions ? StopOthersAsync : null, cancellationToken).ConfigureAwait(false);
        StartSessionData start;
        try
        {
            start = await StartRemoteAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (AvatarSessionLimitException limit)
        {
            throw await _manager.ExplainLimitAsync(limit, "LiveAvatar", ListActiveSessionsAsync, "AvatarKit:LiveAvatar:ReclaimStaleSessions", cancellationToken).ConfigureAwait(false);
        }

        var logger = _loggers.CreateLogger("AvatarKit.HeyGen.LiveAvatarSession");
        LiveAvatarSessionBase session = _options.Mode == LiveAvatarMode.Full
            ? new LiveAvatarFullSession(start, _options, _api, _manager, _credits, logger)
            : new LiveAvatarLiteSession(start, _options, _api, _manager, _credits, _textToSpeech!, logger);
        if (_options.AutoRenew)
        {
            session.StartReplacement = ct => StartRemoteAsync(request, ct);
        }

        _manager.Register(session);
        try
        {
            await session.ConnectAsync(_connector, cancellationToken).ConfigureAwait(false);
            LogStarted(_logger, session.SessionId, _options.Mode, request.AvatarId);
            return session;
        }
        catch
        {
            // Whatever failed (or was cancelled) after the start, the remote session must not outlive this call.
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Creates a session token and starts the remote session; a session half-created by a failure or cancellation is stopped.</summary>
    private async Task<StartSessionData> StartRemoteAsync(SessionTokenRequest request, CancellationToken cancellationToken)
    {
        var token = (await _api.CreateSessionTokenAsync(request, cancellationToken).ConfigureAwait(false)).Data
            ?? throw new AvatarApiException("LiveAvatar returned no session token.");
        try
        {
            return (await _api.StartSessionAsync(token.SessionToken, cancellationToken).ConfigureAwait(false)).Data
                ?? throw new AvatarApiException($"LiveAvatar returned no data for starting session {token.SessionId}.");
        }
        catch
        {
            await StopQuietlyAsync(token.SessionId).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stops the sessions this service opened (the container is being disposed).</summary>
    public async ValueTask DisposeAsync()
    {
        await _manager.CloseAllAsync().ConfigureAwait(false);
        _manager.Dispose();
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(LiveAvatarOptions) ? _options
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    internal SessionTokenRequest BuildTokenRequest(AvatarSessionOptions? options)
    {
        var avatarId = options?.AvatarId ?? _options.AvatarId ?? _kit.DefaultAvatarId
            ?? (_options.IsSandbox ? LiveAvatarOptions.SandboxAvatarId : null)
            ?? throw new InvalidOperationException("No avatar to start: set AvatarSessionOptions.AvatarId, AvatarKit:LiveAvatar:AvatarId or DEFAULT_AVATAR_ID.");
        var quality = options?.Quality ?? _options.Quality ?? _kit.DefaultQuality;
        var full = _options.Mode == LiveAvatarMode.Full;
        var voice = options?.VoiceId ?? _options.VoiceId;
        var language = options?.Language ?? _options.Language;
        return new SessionTokenRequest
        {
            Mode = full ? "FULL" : "LITE",
            AvatarId = avatarId,
            IsSandbox = _options.IsSandbox,
            VideoSettings = quality is null && _options.VideoEncoding is null ? null : new VideoSettings(quality?.ToString().ToLowerInvariant(), _options.VideoEncoding),
            AvatarPersona = full && (voice ?? _options.ContextId ?? language) is not null ? new AvatarPersona(voice, _options.ContextId, language ?? "en") : null,
            MaxSessionDuration = _options.MaxSessionDuration is { } max ? (int)max.TotalSeconds : null,
        };
    }

    private async Task<int> StopOthersAsync(CancellationToken cancellationToken)
    {
        var active = await ListActiveSessionsAsync(cancellationToken).ConfigureAwait(false);
        var stopped = 0;
        foreach (var session in active.Where(s => !_manager.Owns(s.SessionId)))
        {
            await _api.StopSessionAsync(new StopSessionRequest(session.SessionId, "USER_CLOSED"), cancellationToken).ConfigureAwait(false);
            stopped++;
        }

        return stopped;
    }

    private async Task StopQuietlyAsync(string sessionId)
    {
        try
        {
            using var timeout = new CancellationTokenSource(_options.StopTimeout);
            await _api.StopSessionAsync(new StopSessionRequest(sessionId, "USER_CLOSED"), timeout.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The original failure is what the caller must see; this one is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogStopFailed(_logger, sessionId, ex.Message);
        }
    }

    private static async Task<List<T>> ReadAllAsync<T>(Func<int, CancellationToken, Task<LiveAvatarEnvelope<LiveAvatarPage<T>>>> read, CancellationToken cancellationToken)
    {
        var items = new List<T>();
        for (var page = 1; page <= 50; page++)
        {
            var data = (await read(page, cancellationToken).ConfigureAwait(false)).Data;
            if (data is null)
            {
                break;
            }

            items.AddRange(data.Results);
            if (data.Next is null)
            {
                break;
            }
        }

        return items;
    }

    private static AvatarInfo ToInfo(AvatarEntry avatar, bool isPublic) => new(avatar.Id, avatar.Name)
    {
        PreviewImageUrl = Uri.TryCreate(avatar.PreviewUrl, UriKind.Absolute, out var preview) ? preview : null,
        DefaultVoiceId = avatar.DefaultVoice?.Id,
        IsPublic = isPublic,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "LiveAvatar session {SessionId} started ({Mode}, avatar {AvatarId}).")]
    private static partial void LogStarted(ILogger logger, string sessionId, LiveAvatarMode mode, string avatarId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Stopping LiveAvatar session {SessionId} after a failed start failed: {Error}")]
    private static partial void LogStopFailed(ILogger logger, string sessionId, string error);
}
