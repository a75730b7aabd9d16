using System.Globalization;
using AvatarKit.Testing;
using AvatarKit.Testing.LiveAvatar;
using AvatarKit.Testing.Sandbox;
using CliWrap;
using CliWrap.Buffered;
using Microsoft.Extensions.DependencyInjection;

namespace AvatarKit.Cli.Tests.HostKill;

/// <summary>
/// Host-kill runs: real CLI processes whose avatar sessions live in a LiveAvatar emulator hosted by the
/// test, so that the emulator (the "provider") outlives the process. Rooms are in a fake LiveKit server,
/// which the CLI joins over real WebRTC as it would join LiveKit Cloud. Run alone: they measure timing.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostKillGroup : ICollectionFixture<LiveKitFixture>
{
    public const string Name = "host-kill";
}

/// <summary>One fake LiveKit server for the host-kill runs.</summary>
public sealed class LiveKitFixture : IAsyncLifetime
{
    private FakeLiveKitServer? _server;

    public FakeLiveKitServer Server
    {
        get
        {
            Assert.SkipWhen(FakeLiveKitServer.UnavailableReason is not null, $"The fake LiveKit server cannot run: {FakeLiveKitServer.UnavailableReason}");
            return _server ?? throw new InvalidOperationException("The fake LiveKit server did not start.");
        }
    }

    public async ValueTask InitializeAsync()
    {
        if (FakeLiveKitServer.UnavailableReason is null)
        {
            _server = await FakeLiveKitServer.StartAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>A LiveAvatar emulator (at most one active session, like a small plan) whose rooms are in the fake LiveKit server.</summary>
internal sealed class AvatarRig : IAsyncDisposable
{
    private AvatarRig(FakeLiveKitServer rooms, LiveAvatarEmulator liveAvatar)
    {
        Rooms = rooms;
        LiveAvatar = liveAvatar;
    }

    public FakeLiveKitServer Rooms { get; }

    public LiveAvatarEmulator LiveAvatar { get; }

    public static async Task<AvatarRig> StartAsync(FakeLiveKitServer rooms, CancellationToken cancellationToken)
    {
        var options = new LiveAvatarEmulatorOptions { MaxConcurrentSessions = 1, TextToSpeech = AvatarKitSandbox.CreateVoice(out _) };
        return new AvatarRig(rooms, await LiveAvatarEmulator.StartAsync(rooms, options, cancellationToken));
    }

    /// <summary>Points a CLI process at the emulator as if it were the real service (a key and a base URL), recording at 640x360.</summary>
    public void Configure(CliProcess cli, bool reclaim = false)
    {
        cli.Environment["LIVEAVATAR_API_KEY"] = LiveAvatar.ApiKey;
        cli.Environment["LIVEAVATAR_BASE_URL"] = LiveAvatar.BaseUrl.ToString();
        cli.Environment["DEFAULT_AVATAR_ID"] = LiveAvatarEmulatorOptions.PublicAvatarId;
        cli.Environment["AvatarKit__Recording__Width"] = "640";
        cli.Environment["AvatarKit__Recording__Height"] = "360";
        cli.Environment["AvatarKit__LiveAvatar__ReclaimStaleSessions"] = reclaim ? "true" : null;
    }

    /// <summary>A service provider of this test process with LiveAvatar pointed at the emulator, joining rooms through LiveKit.</summary>
    public ServiceProvider CreateServices(bool reclaim)
    {
        var services = new ServiceCollection().AddLogging().AddSingleton(Rooms.Connector);
        services.AddAvatarKit().AddLiveAvatar(o =>
        {
            o.ApiKey = LiveAvatar.ApiKey;
            o.BaseUrl = LiveAvatar.BaseUrl;
            o.AvatarId = LiveAvatarEmulatorOptions.PublicAvatarId;
            o.ReclaimStaleSessions = reclaim;
            o.StopSessionsOnProcessExit = false;
        });
        return services.BuildServiceProvider();
    }

    public async ValueTask DisposeAsync() => await LiveAvatar.DisposeAsync();
}

/// <summary>Operating-system helpers of the host-kill runs: signals, child processes, media probes.</summary>
internal static class HostProcess
{
    /// <summary>Sends a signal (KILL, TERM, INT) to one process, not its children: what a supervisor or a terminal does.</summary>
    public static async Task SignalAsync(int processId, string signal) =>
        await CliWrap.Cli.Wrap("kill").WithArguments(["-s", signal, processId.ToString(CultureInfo.InvariantCulture)]).ExecuteAsync();

    /// <summary>The direct children of a process (e.g. its ffmpeg encoder), from /proc.</summary>
    public static IReadOnlyList<int> Children(int processId)
    {
        var children = new List<int>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                // "pid (comm) state ppid ...": the name may contain spaces, so parse after the last ')'.
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (int.Parse(fields[1], CultureInfo.InvariantCulture) == processId)
                {
                    children.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process exited while we looked.
            }
        }

        return children;
    }

    /// <summary>
    /// When the CLI started recording, from its log line "Recording session … to …" (local time, milliseconds);
    /// null when the log has no such line.
    /// </summary>
    public static DateTimeOffset? RecordingStartedAt(CliProcess cli)
    {
        var logs = Path.Combine(cli.WorkingDirectory, "logs");
        foreach (var file in Directory.Exists(logs) ? Directory.GetFiles(logs, "avatarkit-*.log") : [])
        {
            using var reader = new StreamReader(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            while (reader.ReadLine() is { } line)
            {
                if (line.Contains(": Recording session ", StringComparison.Ordinal) && line.Length > 23
                    && DateTime.TryParseExact(line[..23], "yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var at))
                {
                    return new DateTimeOffset(at);
                }
            }
        }

        return null;
    }

    public static bool IsRunning(int processId) => File.Exists($"/proc/{processId}/stat");

    /// <summary>Waits until the processes have exited; kills those that do not (no orphans) and returns them.</summary>
    public static async Task<IReadOnlyList<int>> ReapAsync(IEnumerable<int> processIds, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var left = processIds.ToList();
        while (left.Count > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            left.RemoveAll(p => !IsRunning(p));
        }

        foreach (var pid in left)
        {
            await SignalAsync(pid, "KILL");
        }

        return left;
    }

    /// <summary>The duration ffprobe reads from a file, or null when it cannot read it.</summary>
    public static async Task<double?> ProbeDurationAsync(string file, CancellationToken cancellationToken)
    {
        var result = await CliWrap.Cli.Wrap("ffprobe")
            .WithArguments(["-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1", file])
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(cancellationToken);
        return result.ExitCode == 0 && double.TryParse(result.StandardOutput.Trim(), CultureInfo.InvariantCulture, out var seconds) ? seconds : null;
    }

    /// <summary>Decodes every frame of a file; returns ffmpeg's errors (empty when the whole file plays).</summary>
    public static async Task<string> DecodeErrorsAsync(string file, CancellationToken cancellationToken)
    {
        var result = await CliWrap.Cli.Wrap("ffmpeg")
            .WithArguments(["-v", "error", "-nostdin", "-i", file, "-f", "null", "-"])
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync(cancellationToken);
        return result.ExitCode == 0 ? result.StandardError.Trim() : $"exit {result.ExitCode}: {result.StandardError.Trim()}";
    }
}
