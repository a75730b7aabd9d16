namespace AvatarKit.Harness.Measuring;

/// <summary>Catches the next occurrence of an event after it is armed, with its timestamp.</summary>
internal sealed class Probe
{
    private TaskCompletionSource<long>? _next;

    /// <summary>Arms the probe; call before causing the event.</summary>
    /// <returns>The timestamp of the next occurrence.</returns>
    public Task<long> Arm()
    {
        var next = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _next, next);
        return next.Task;
    }

    /// <summary>Records an occurrence; a handler for the event.</summary>
    /// <param name="timestamp">When it happened.</param>
    public void Hit(long timestamp) => Interlocked.Exchange(ref _next, null)?.TrySetResult(timestamp);
}
