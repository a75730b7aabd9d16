namespace AvatarKit.HeyGen.Tests;

internal static class Waits
{
    /// <summary>A generous bound for things that happen "soon": the tests assert order and outcome, never speed.</summary>
    public static readonly TimeSpan Soon = TimeSpan.FromSeconds(30);

    public static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Soon;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out waiting until {what}.");
            }

            await Task.Delay(20, TestContext.Current.CancellationToken);
        }
    }

    public static Task<T> Next<T>(Action<EventHandler<T>> subscribe)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        subscribe((_, e) => tcs.TrySetResult(e));
        return tcs.Task.WaitAsync(Soon, TestContext.Current.CancellationToken);
    }
}
