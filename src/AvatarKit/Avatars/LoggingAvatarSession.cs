using Microsoft.Extensions.Logging;

namespace AvatarKit;

/// <summary>The session side of <see cref="LoggingAvatarService"/>: logs its calls and its state changes.</summary>
internal sealed class LoggingAvatarSession : DelegatingAvatarSession
{
    private readonly ILogger _logger;

    public LoggingAvatarSession(IAvatarSession innerSession, ILogger logger)
        : base(innerSession)
    {
        _logger = logger;
    }

    public override Task SpeakAsync(string text, CancellationToken cancellationToken = default)
    {
        if (_logger.IsEnabled(LogLevel.Trace))
        {
            AvatarLog.SpeakText(_logger, SessionId, text);
        }

        return AvatarLog.CallAsync(_logger, nameof(SpeakAsync), async () =>
        {
            await base.SpeakAsync(text, cancellationToken).ConfigureAwait(false);
            return true;
        });
    }

    public override Task SpeakAsync(IAsyncEnumerable<string> textChunks, CancellationToken cancellationToken = default) =>
        AvatarLog.CallAsync(_logger, nameof(SpeakAsync), async () =>
        {
            await base.SpeakAsync(textChunks, cancellationToken).ConfigureAwait(false);
            return true;
        });

    public override Task InterruptAsync(CancellationToken cancellationToken = default) =>
        AvatarLog.CallAsync(_logger, nameof(InterruptAsync), async () =>
        {
            await base.InterruptAsync(cancellationToken).ConfigureAwait(false);
            return true;
        });

    protected override void OnStateChanged(AvatarSessionStateChangedEventArgs e)
    {
        AvatarLog.StateChanged(_logger, SessionId, e.Previous, e.Current, e.Reason);
        base.OnStateChanged(e);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        AvatarLog.SessionStopping(_logger, SessionId);
        await base.DisposeAsyncCore().ConfigureAwait(false);
    }
}
