using Microsoft.Extensions.Logging;

namespace AvatarKit;

/// <summary>
/// Avatar middleware that logs every call of the service and of the sessions it starts, as
/// Microsoft.Extensions.AI's <c>LoggingChatClient</c> does: calls and their outcome at
/// <see cref="LogLevel.Debug"/>, what the avatar is told to say only at <see cref="LogLevel.Trace"/>,
/// failures at <see cref="LogLevel.Error"/>. Add it with <c>builder.UseLogging()</c>.
/// </summary>
public sealed class LoggingAvatarService : DelegatingAvatarService
{
    private readonly ILogger _logger;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="innerService">The service calls are passed to.</param>
    /// <param name="logger">Where the calls are logged.</param>
    public LoggingAvatarService(IAvatarService innerService, ILogger logger)
        : base(innerService)
    {
        _logger = Throw.IfNull(logger);
    }

    /// <inheritdoc />
    public override Task<IReadOnlyList<AvatarInfo>> ListAvatarsAsync(CancellationToken cancellationToken = default) =>
        LogCallAsync(nameof(ListAvatarsAsync), () => base.ListAvatarsAsync(cancellationToken));

    /// <inheritdoc />
    public override async Task<IAvatarSession> StartSessionAsync(AvatarSessionOptions? options = null, CancellationToken cancellationToken = default)
    {
        var session = await LogCallAsync(nameof(StartSessionAsync), () => base.StartSessionAsync(options, cancellationToken)).ConfigureAwait(false);
        AvatarLog.SessionStarted(_logger, session.SessionId, options?.AvatarId);
        return new LoggingAvatarSession(session, _logger);
    }

    /// <inheritdoc />
    public override Task<IReadOnlyList<AvatarSessionInfo>> ListActiveSessionsAsync(CancellationToken cancellationToken = default) =>
        LogCallAsync(nameof(ListActiveSessionsAsync), () => base.ListActiveSessionsAsync(cancellationToken));

    /// <inheritdoc />
    public override Task<int> CloseAllSessionsAsync(CancellationToken cancellationToken = default) =>
        LogCallAsync(nameof(CloseAllSessionsAsync), () => base.CloseAllSessionsAsync(cancellationToken));

    private Task<T> LogCallAsync<T>(string operation, Func<Task<T>> call) => AvatarLog.CallAsync(_logger, operation, call);
}
