using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace AvatarKit.Testing.LiveAvatar;

/// <summary>One session of the LiveAvatar emulator: its token, configuration, timers, avatar and control channel.</summary>
internal sealed class EmulatedLiveAvatarSession(string id, string token, string mode, string avatarId, bool isSandbox) : ILiteSocketSession
{
    private readonly Lock _gate = new();

    public string Id { get; } = id;

    public string Token { get; } = token;

    public string Mode { get; } = mode;

    public string AvatarId { get; } = avatarId;

    public bool IsSandbox { get; } = isSandbox;

    public bool IsLite => Mode == "LITE";

    public string WebSocketToken { get; } = Guid.NewGuid().ToString("N");

    public DateTimeOffset CreatedAt { get; } = DateTimeOffset.UtcNow;

    public DateTimeOffset? StartedAt { get; set; }

    public DateTimeOffset? EndedAt { get; private set; }

    public string? EndReason { get; private set; }

    public bool IsActive => StartedAt is not null && EndedAt is null;

    public bool HasEnded => EndedAt is not null;

    public long LastActivityTicks { get; set; } = Environment.TickCount64;

    public EmulatedAvatar? Avatar { get; set; }

    /// <summary>Gets or sets the FULL session's agent participant (present in the room, silent).</summary>
    public IRealtimeRoom? Agent { get; set; }

    public WebSocket? Socket { get; set; }

    public Task? Pump { get; set; }

    public TaskCompletionSource SocketAttached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public CancellationTokenSource Lifetime { get; } = new();

    /// <summary>Gets the events waiting to be sent, in order (LiveKit data for FULL, WebSocket frames for LITE).</summary>
    public Channel<JsonObject> Outbox { get; } = Channel.CreateUnbounded<JsonObject>(new UnboundedChannelOptions { SingleReader = true });

    public Dictionary<string, string> SourceEvents { get; } = new(StringComparer.Ordinal);

    public int SpeakMessages { get; set; }

    public void Touch() => LastActivityTicks = Environment.TickCount64;

    /// <summary>Marks the session ended; returns false when it already was.</summary>
    public bool TryEnd(string reason)
    {
        lock (_gate)
        {
            if (EndedAt is not null)
            {
                return false;
            }

            EndedAt = DateTimeOffset.UtcNow;
            EndReason = reason;
            return true;
        }
    }

    public double CreditsConsumed(double fullRate, double liteRate)
    {
        if (StartedAt is not { } started || IsSandbox)
        {
            return 0;
        }

        // Metered per started minute, as the real service's per-minute job.
        var minutes = Math.Ceiling(((EndedAt ?? DateTimeOffset.UtcNow) - started).TotalMinutes);
        return Math.Max(1, minutes) * (IsLite ? liteRate : fullRate);
    }

    public void Post(JsonObject message)
    {
        if (!IsLite)
        {
            message["session_id"] ??= Id;
        }

        Outbox.Writer.TryWrite(message);
    }

    /// <summary>Takes the avatar and the agent out of the room.</summary>
    public async Task LeaveRoomAsync()
    {
        if (Avatar is { } avatar)
        {
            await avatar.DisposeAsync().ConfigureAwait(false);
        }

        if (Agent is { } agent)
        {
            await agent.DisposeAsync().ConfigureAwait(false);
        }
    }

    public static byte[] Utf8(JsonObject message) => Encoding.UTF8.GetBytes(message.ToJsonString());
}
