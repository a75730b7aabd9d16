using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace AvatarKit.HeyGen.Tests;

/// <summary>Runs alone: the credit metric is process-wide, and the cap test holds every meter that records it until it has subscribed.</summary>
[CollectionDefinition(nameof(CreditMeterTests), DisableParallelization = true)]
public sealed class CreditMeterGroup;

/// <summary>The credit meter charges each started minute, reports it as an event and a metric, and the cap ends or refuses sessions cleanly.</summary>
[Collection(nameof(CreditMeterTests))]
public sealed class CreditMeterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_cap_ends_the_session_before_it_is_passed_and_refuses_the_next_one()
    {
        await using var h = await LiveAvatarHarness.StartAsync(o =>
        {
            o.CreditCap = 5;
            o.BillingMinute = TimeSpan.FromMilliseconds(200);
        });
        var measured = new ConcurrentQueue<double>();
        using var subscribed = new ManualResetEventSlim();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "AvatarKit" && instrument.Name == "avatarkit.avatar.credits")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
        {
            // The meter records each charge just before it raises CreditsCharged, the first one as the session opens:
            // held until the test has subscribed, no charge (nor the close at the cap) happens unseen, however late
            // the test runs after the start returns.
            subscribed.Wait(Waits.Soon);
            measured.Enqueue(value);
        });
        listener.Start();
        var charges = new ConcurrentQueue<AvatarCreditsEventArgs>();
        var closed = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        ILiveAvatarSession session;
        try
        {
            session = (ILiveAvatarSession)await h.Service.StartSessionAsync(cancellationToken: Ct);
            session.CreditsCharged += (_, e) => charges.Enqueue(e);
            session.StateChanged += (_, e) =>
            {
                if (e.Current == AvatarSessionState.Closed)
                {
                    closed.TrySetResult(e.Reason);
                }
            };
        }
        finally
        {
            subscribed.Set();
        }

        Assert.Equal("CREDIT_CAP_REACHED", await closed.Task.WaitAsync(Waits.Soon, Ct));

        Assert.Equal(4, session.EstimatedCredits);
        Assert.Equal(0, h.Emulator.OpenSessionCount);
        Assert.Equal([2.0, 4.0], charges.Select(c => c.ServiceCredits));
        Assert.Equal(5, charges.Last().Cap);
        Assert.True(measured.Sum() >= 4);
        var refused = await Assert.ThrowsAsync<AvatarSessionLimitException>(() => h.Service.StartSessionAsync(cancellationToken: Ct));
        Assert.Contains("credit cap", refused.Message, StringComparison.Ordinal);
        Assert.Single(h.Emulator.Requests, r => r.Path == "/v1/sessions/token");
    }

    [Fact]
    public async Task Lite_sessions_are_charged_one_credit_per_started_minute()
    {
        await using var h = await LiveAvatarHarness.StartAsync(o =>
        {
            o.Mode = LiveAvatarMode.Lite;
            o.BillingMinute = TimeSpan.FromMilliseconds(150);
        });
        await using var session = (ILiveAvatarSession)await h.Service.StartSessionAsync(cancellationToken: Ct);
        var charges = new ConcurrentQueue<AvatarCreditsEventArgs>();
        session.CreditsCharged += (_, e) => charges.Enqueue(e);

        await Waits.UntilAsync(() => charges.Count >= 3, "three more minutes were charged");

        // The meter goes on charging (a minute is 150 ms here): stop it before comparing the last charge with the total.
        await session.DisposeAsync();
        var last = charges.Last();
        Assert.Equal(last.SessionCredits, session.EstimatedCredits);
        Assert.Equal([1.0, 1.0], charges.Zip(charges.Skip(1), (a, b) => b.SessionCredits - a.SessionCredits).Take(2));
    }
}
