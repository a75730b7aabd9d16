using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using AvatarKit.HeyGen;
using Microsoft.Extensions.DependencyInjection;

namespace AvatarKit.Cli.Tests.HostKill;

/// <summary>
/// The CLI host killed or stopped mid-session: SIGKILL leaves a playable recording and a remote session that
/// the next start reclaims; SIGTERM and Ctrl+C (SIGINT) stop the session and finalize the recording within seconds.
/// </summary>
[Collection(HostKillGroup.Name)]
public sealed class HostKillTests(LiveKitFixture liveKit)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    // The recorder ends a fragment every half second; a kill loses the fragment in progress (up to 0.5 s, depending
    // on when it lands) plus what is still in the jitter buffer (150 ms) and the encoder (~0.2 s measured).
    private static readonly TimeSpan MaxLostOnKill = TimeSpan.FromSeconds(1);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_killed_processs_session_is_named_when_reclaim_is_off_and_stopped_by_the_next_start_when_on()
    {
        await using var rig = await AvatarRig.StartAsync(liveKit.Server, Ct);
        using var cli = new CliProcess();
        rig.Configure(cli);
        string orphan;
        await using (var chat = InteractiveCli.Start(cli, "chat", "--no-record"))
        {
            await chat.WaitForLineAsync("/help lists the commands", StartTimeout, Ct);
            orphan = Assert.Single(rig.LiveAvatar.OpenSessionIds);

            await HostProcess.SignalAsync(chat.ProcessId, "KILL");

            Assert.Equal(128 + 9, await chat.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        }

        // Nothing ran on the way out: the provider still counts the session, and it fills the plan's only slot.
        Assert.Equal([orphan], rig.LiveAvatar.OpenSessionIds);

        // Reclaim off: the next process is refused with the orphan's id and what to do, as a typed error...
        await using (var services = rig.CreateServices(reclaim: false))
        {
            var refused = await Assert.ThrowsAsync<AvatarSessionLimitException>(() => services.GetRequiredService<IAvatarService>().StartSessionAsync(cancellationToken: Ct));
            Assert.Equal([orphan], refused.OtherActiveSessionIds);
            Assert.Contains(orphan, refused.Message, StringComparison.Ordinal);
            Assert.Contains("ReclaimStaleSessions (AvatarKit:LiveAvatar:ReclaimStaleSessions=true)", refused.Message, StringComparison.Ordinal);
            Assert.Contains("CloseAllSessionsAsync", refused.Message, StringComparison.Ordinal);
        }

        // ...and as the CLI's message and exit code.
        using (var again = new CliProcess())
        {
            rig.Configure(again);
            var (exitCode, output) = await again.RunAsync(["chat", "--no-record"], "Hello!\n", Ct);
            Assert.True(exitCode == 3, output);
            Assert.Contains(orphan, output, StringComparison.Ordinal);
            Assert.Contains("ReclaimStaleSessions", output, StringComparison.Ordinal);
        }

        Assert.Equal([orphan], rig.LiveAvatar.OpenSessionIds);

        // Reclaim on: the next start lists the account's sessions, stops the orphan and starts within the limit of 1.
        await using (var services = rig.CreateServices(reclaim: true))
        {
            await using var session = await services.GetRequiredService<IAvatarService>().StartSessionAsync(cancellationToken: Ct);
            Assert.Equal([session.SessionId], rig.LiveAvatar.OpenSessionIds);
            Assert.Equal(AvatarSessionState.Ready, session.State);
        }

        Assert.Equal("USER_CLOSED", await EndReasonAsync(rig, orphan));
        Assert.Equal(0, rig.LiveAvatar.OpenSessionCount);
    }

    [Fact]
    public async Task Sigkill_mid_answer_leaves_a_playable_recording_and_the_next_cli_start_reclaims_the_session()
    {
        await using var rig = await AvatarRig.StartAsync(liveKit.Server, Ct);
        using var cli = new CliProcess();
        rig.Configure(cli);
        DateTimeOffset ready, killedAt;
        await using (var chat = InteractiveCli.Start(cli, "chat"))
        {
            ready = await chat.WaitForLineAsync("/help lists the commands", StartTimeout, Ct);
            chat.Send("Tell me a long story about a lighthouse keeper.");
            await chat.WaitForLineAsync("avatar › Once upon a time", TimeSpan.FromSeconds(60), Ct);
            await Task.Delay(TimeSpan.FromSeconds(3), Ct);
            var encoders = HostProcess.Children(chat.ProcessId);
            Assert.NotEmpty(encoders);

            killedAt = DateTimeOffset.UtcNow;
            await HostProcess.SignalAsync(chat.ProcessId, "KILL");

            Assert.Equal(128 + 9, await chat.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            Assert.Empty(await HostProcess.ReapAsync(encoders, TimeSpan.FromSeconds(30)));
        }

        // The file plays to its end, and lacks at most about a second before the kill.
        var orphan = Assert.Single(rig.LiveAvatar.OpenSessionIds);
        var file = Assert.Single(Directory.GetFiles(cli.OutputDirectory, "session_*.mp4"));
        Assert.Contains(orphan, Path.GetFileName(file), StringComparison.Ordinal);
        var duration = await HostProcess.ProbeDurationAsync(file, Ct);
        Assert.NotNull(duration);
        Assert.Equal(string.Empty, await HostProcess.DecodeErrorsAsync(file, Ct));
        var recordingStarted = HostProcess.RecordingStartedAt(cli) ?? ready;
        var lost = (killedAt - recordingStarted).TotalSeconds - duration.Value;
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"SIGKILL: recorded {duration:0.00} s of {(killedAt - recordingStarted).TotalSeconds:0.00} s (ready line {(ready - recordingStarted).TotalSeconds:0.00} s after the recording started); lost {lost:0.00} s"));
        Assert.True(duration > 3, $"The recording lasts {duration} s.");
        Assert.True(lost <= MaxLostOnKill.TotalSeconds, string.Create(CultureInfo.InvariantCulture, $"The recording lost {lost:0.00} s before the kill (recorded {duration:0.00} s)."));

        // The next start (reclaim on) stops the orphan first, then runs in the plan's only slot.
        using var next = new CliProcess();
        rig.Configure(next, reclaim: true);
        var (exitCode, output) = await next.RunAsync(["chat", "--no-record"], "Hello!\n", Ct);
        Assert.True(exitCode == 0, output);
        Assert.Contains("avatar › Hello!", output, StringComparison.Ordinal);
        Assert.Equal("USER_CLOSED", await EndReasonAsync(rig, orphan));
        Assert.Equal(0, rig.LiveAvatar.OpenSessionCount);
    }

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task A_signal_mid_answer_stops_the_session_and_finalizes_the_recording_within_seconds(string signal)
    {
        await using var rig = await AvatarRig.StartAsync(liveKit.Server, Ct);
        using var cli = new CliProcess();
        rig.Configure(cli);
        await using var chat = InteractiveCli.Start(cli, "chat");
        var ready = await chat.WaitForLineAsync("/help lists the commands", StartTimeout, Ct);
        chat.Send("Tell me a long story about a lighthouse keeper.");
        await chat.WaitForLineAsync("avatar › Once upon a time", TimeSpan.FromSeconds(60), Ct);
        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        var encoders = HostProcess.Children(chat.ProcessId);

        var signalledAt = DateTimeOffset.UtcNow;
        await HostProcess.SignalAsync(chat.ProcessId, signal);
        var exitCode = await chat.WaitForExitAsync(TimeSpan.FromSeconds(30));
        var exitTook = DateTimeOffset.UtcNow - signalledAt;

        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"SIG{signal}: exited {exitCode} after {exitTook.TotalSeconds:0.00} s"));
        Assert.True(exitCode == 130, $"exit {exitCode?.ToString(CultureInfo.InvariantCulture) ?? "none within 30 s"}:\n{chat.Output}");
        Assert.True(exitTook < TimeSpan.FromSeconds(10), $"The CLI took {exitTook.TotalSeconds:0.0} s to exit.");
        Assert.Empty(await HostProcess.ReapAsync(encoders, TimeSpan.FromSeconds(30)));
        Assert.Equal(0, rig.LiveAvatar.OpenSessionCount);
        Assert.Contains("Stopped (Ctrl+C)", chat.Output, StringComparison.Ordinal);

        // Finalized: the sidecar is written and the file plays to its end, up to the signal.
        var file = Assert.Single(Directory.GetFiles(cli.OutputDirectory, "session_*.mp4"));
        Assert.True(File.Exists(Path.ChangeExtension(file, ".json")), "The recording's sidecar was not written.");
        var duration = await HostProcess.ProbeDurationAsync(file, Ct);
        Assert.NotNull(duration);
        Assert.Equal(string.Empty, await HostProcess.DecodeErrorsAsync(file, Ct));
        var elapsed = (signalledAt - (HostProcess.RecordingStartedAt(cli) ?? ready)).TotalSeconds;
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"SIG{signal}: recorded {duration:0.00} s of {elapsed:0.00} s before the signal"));
        Assert.True(duration >= elapsed - 0.5, string.Create(CultureInfo.InvariantCulture, $"The recording lasts {duration:0.00} s of the {elapsed:0.00} s before the signal."));
    }

    private static async Task<string?> EndReasonAsync(AvatarRig rig, string sessionId)
    {
        using var http = new HttpClient { BaseAddress = rig.LiveAvatar.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/sessions/{sessionId}");
        request.Headers.Add("X-API-KEY", rig.LiveAvatar.ApiKey);
        using var response = await http.SendAsync(request, Ct);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        return body.GetProperty("data").GetProperty("end_reason").GetString();
    }
}
