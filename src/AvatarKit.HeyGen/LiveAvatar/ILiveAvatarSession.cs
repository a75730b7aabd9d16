namespace AvatarKit.HeyGen;

/// <summary>A LiveAvatar session: an <see cref="IAvatarSession"/> with the mode, transcripts and the credit meter.</summary>
public interface ILiveAvatarSession : IAvatarSession
{
    /// <summary>Gets the mode the session runs in.</summary>
    LiveAvatarMode Mode { get; }

    /// <summary>Gets the longest the provider lets the session run, when it said.</summary>
    TimeSpan? MaxDuration { get; }

    /// <summary>Gets the credits used so far, estimated from the mode's per-minute rate (FULL 2, LITE 1, sandbox free; each started minute counts).</summary>
    double EstimatedCredits { get; }

    /// <summary>Raised when the session moved to a replacement remote session (see <see cref="LiveAvatarOptions.AutoRenew"/>); <see cref="IAvatarSession.SessionId"/> and <see cref="IAvatarSession.Room"/> change.</summary>
    event EventHandler<AvatarSessionRenewedEventArgs>? Renewed;

    /// <summary>Raised when the credit meter charges a started minute (at start, then every minute).</summary>
    event EventHandler<AvatarCreditsEventArgs>? CreditsCharged;

    /// <summary>Raised when LiveAvatar reports what the user or the avatar said (FULL mode).</summary>
    event EventHandler<AvatarTranscriptEventArgs>? TranscriptReceived;
}

/// <summary>Arguments of <see cref="ILiveAvatarSession.Renewed"/>.</summary>
/// <param name="previousSessionId">The remote session that was replaced (and stopped).</param>
/// <param name="sessionId">The replacement.</param>
/// <param name="reason">Why: the maximum duration was near, or the provider ended the previous session.</param>
public sealed class AvatarSessionRenewedEventArgs(string previousSessionId, string sessionId, string reason) : EventArgs
{
    /// <summary>Gets the remote session that was replaced.</summary>
    public string PreviousSessionId { get; } = previousSessionId;

    /// <summary>Gets the replacement.</summary>
    public string SessionId { get; } = sessionId;

    /// <summary>Gets why the session was renewed.</summary>
    public string Reason { get; } = reason;
}

/// <summary>Arguments of <see cref="ILiveAvatarSession.CreditsCharged"/>.</summary>
/// <param name="sessionCredits">The session's estimated credits so far.</param>
/// <param name="serviceCredits">The estimated credits of every session the service started.</param>
/// <param name="cap">The configured cap, if any.</param>
public sealed class AvatarCreditsEventArgs(double sessionCredits, double serviceCredits, double? cap) : EventArgs
{
    /// <summary>Gets the session's estimated credits so far.</summary>
    public double SessionCredits { get; } = sessionCredits;

    /// <summary>Gets the estimated credits of every session the service started.</summary>
    public double ServiceCredits { get; } = serviceCredits;

    /// <summary>Gets the configured cap, if any.</summary>
    public double? Cap { get; } = cap;
}

/// <summary>A transcript line reported by the provider.</summary>
/// <param name="role"><c>user</c> or <c>avatar</c>.</param>
/// <param name="text">What was said.</param>
/// <param name="isFinal">Whether the line is final rather than a partial chunk.</param>
public sealed class AvatarTranscriptEventArgs(string role, string text, bool isFinal) : EventArgs
{
    /// <summary>Gets who spoke: <c>user</c> or <c>avatar</c>.</summary>
    public string Role { get; } = role;

    /// <summary>Gets what was said.</summary>
    public string Text { get; } = text;

    /// <summary>Gets a value indicating whether the line is final.</summary>
    public bool IsFinal { get; } = isFinal;
}
