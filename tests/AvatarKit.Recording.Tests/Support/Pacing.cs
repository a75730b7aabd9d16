using System.Diagnostics;
using AvatarKit.Recording.Session;

namespace AvatarKit.Recording.Tests.Support;

/// <summary>How a test feeds media: as fast as the encoder takes it, or in real time.</summary>
internal static class Pacing
{
    /// <summary>Lets the publisher run at most <paramref name="lead"/> ahead of what the encoder was given (faster than real time, no drops).</summary>
    public static Func<TimeSpan, Task> Encoder(ISessionRecording recording, double lead = 0.3, Func<bool>? stopWaiting = null)
    {
        var r = (FfmpegSessionRecording)recording;
        return async t =>
        {
            var deadline = Stopwatch.StartNew();
            while (r.WrittenDuration < t - TimeSpan.FromSeconds(lead) && stopWaiting?.Invoke() != true)
            {
                if (deadline.Elapsed > TimeSpan.FromSeconds(30))
                {
                    throw new TimeoutException($"The recorder stalled at {r.WrittenDuration} waiting for {t}.");
                }

                await Task.Delay(2);
            }
        };
    }

    /// <summary>Publishes each step at its timestamp on the wall clock.</summary>
    public static Func<TimeSpan, Task> RealTime()
    {
        var clock = Stopwatch.StartNew();
        return async t =>
        {
            var wait = t - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
        };
    }

    /// <summary>Waits until the recorder has received media up to <paramref name="end"/> (before completing).</summary>
    public static async Task UntilReceivedAsync(ISessionRecording recording, TimeSpan end)
    {
        var r = (FfmpegSessionRecording)recording;
        var deadline = Stopwatch.StartNew();
        while (r.ReceivedDuration < end - TimeSpan.FromMilliseconds(1))
        {
            // A hang guard, not a speed requirement: giving up quietly would only move the failure to a duration assertion.
            if (deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                throw new TimeoutException($"The recorder received media up to {r.ReceivedDuration}, not {end}.");
            }

            await Task.Delay(5);
        }
    }
}
