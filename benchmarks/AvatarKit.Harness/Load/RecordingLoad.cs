using System.Globalization;
using AvatarKit.Harness.Doubles;

namespace AvatarKit.Harness.Load;

/// <summary>
/// What <c>load --recording</c> adds to each conversation: a sandbox room in which the avatar publishes
/// 720p25 video and audio in real time, recorded by the real <see cref="FfmpegSessionRecorder"/> (one live
/// ffmpeg per conversation, one clip per answer) into a temporary directory that is deleted afterwards.
/// It sums what the recordings report and measures the ffmpeg processes (CPU, RSS).
/// </summary>
internal sealed class RecordingLoad : IDisposable
{
    private readonly InProcessRoomServer _server = new();
    private long _dropped;
    private long _framesPublished;
    private int _recordings;
    private int _errors;
    private int _unfinished;
    private int _clips;
    private long _bytes;
    private long _peakChildRssKb;

    /// <summary>Initializes a new <see cref="RecordingLoad"/>.</summary>
    /// <param name="clips">Whether one clip per answer is cut (a re-encode of the answer, beside the live encoder).</param>
    public RecordingLoad(bool clips)
    {
        Directory = Path.Combine(Path.GetTempPath(), "avatarkit-load-" + Guid.NewGuid().ToString("N")[..8]);
        Recorder = new FfmpegSessionRecorder(new RecordingOptions { OutputDirectory = Directory, CutClips = clips });
        ChildCpuAtStart = ChildrenCpu();
    }

    public string Directory { get; }

    public FfmpegSessionRecorder Recorder { get; }

    public TimeSpan ChildCpuAtStart { get; }

    public long DroppedVideoFrames => Interlocked.Read(ref _dropped);

    public int Errors => Volatile.Read(ref _errors);

    /// <summary>Joins the conversation's room: the client's connection (the avatar session's room) and the avatar's media.</summary>
    /// <param name="index">The conversation.</param>
    /// <param name="avatar">Creates the avatar session on the client's connection.</param>
    /// <returns>The avatar session, and what to dispose after the conversation.</returns>
    public async Task<(SimulatedAvatarSession Avatar, Func<ValueTask> Dispose)> JoinAsync(int index, Func<IRealtimeRoom, SimulatedAvatarSession> avatar)
    {
        var roomName = $"load-{index.ToString(CultureInfo.InvariantCulture)}";
        var client = await _server.JoinAsync(roomName, "client").ConfigureAwait(false);
        var session = avatar(client);
        var media = await SimulatedAvatarMedia.StartAsync(_server, roomName, session.AvatarIdentity, () => session.State == AvatarSessionState.Speaking).ConfigureAwait(false);
        return (session, async () =>
        {
            await media.DisposeAsync().ConfigureAwait(false);
            Interlocked.Add(ref _framesPublished, media.FramesPublished);
            await client.DisposeAsync().ConfigureAwait(false);
        });
    }

    /// <summary>Adds one finished conversation's recording.</summary>
    /// <param name="recording">The conversation's recording (null when it did not start).</param>
    /// <param name="result">What the pipeline returned when it stopped (null when finalizing failed or timed out).</param>
    /// <param name="errors">The conversation's errors.</param>
    public void Add(ISessionRecording? recording, SessionRecordingResult? result, IReadOnlyList<ConversationErrorEvent> errors)
    {
        Interlocked.Add(ref _errors, errors.Count(e => e.Stage == ConversationStage.Recording));
        if (result is null)
        {
            // Not finalized in time (the clip backlog): what it recorded up to then still counts.
            Interlocked.Increment(ref _unfinished);
            if (recording is not null)
            {
                Interlocked.Add(ref _dropped, recording.DroppedVideoFrames);
                Interlocked.Add(ref _clips, recording.Clips.Count);
                Interlocked.Add(ref _bytes, new FileInfo(recording.SessionFilePath).Length);
            }

            return;
        }

        Interlocked.Increment(ref _recordings);
        Interlocked.Add(ref _dropped, result.DroppedVideoFrames);
        Interlocked.Add(ref _clips, result.Clips.Count);
        Interlocked.Add(ref _bytes, new FileInfo(result.SessionFilePath).Length);
    }

    /// <summary>Samples the RSS of this process's ffmpeg children every second.</summary>
    /// <param name="cancellationToken">Stops sampling.</param>
    /// <returns>A task that completes when stopped.</returns>
    public async Task SampleChildrenAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var total = ChildPids().Sum(ReadRssKb);
                _peakChildRssKb = Math.Max(_peakChildRssKb, total);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Describes the recordings; call after every conversation stopped (their ffmpeg processes exited).</summary>
    /// <param name="elapsed">The run's wall time.</param>
    /// <returns>The report line.</returns>
    public string Describe(TimeSpan elapsed)
    {
        var ffmpegCores = (ChildrenCpu() - ChildCpuAtStart) / elapsed;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"recording: {_recordings} sessions finalized ({_unfinished} not in time), {_clips} clips, {_bytes / 1048576.0:0} MB; video frames dropped {DroppedVideoFrames} of {_framesPublished} published ({100.0 * DroppedVideoFrames / Math.Max(1, _framesPublished):0.0}%); recording errors {Errors}; ffmpeg CPU {ffmpegCores:0.00} cores, ffmpeg peak RSS {_peakChildRssKb / 1024.0:0} MB in total");
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Nothing was recorded.
        }
        catch (IOException ex)
        {
            Console.Error.WriteLine($"load: the recordings in {Directory} could not be deleted: {ex.Message}");
        }
    }

    /// <summary>CPU of this process's exited and reaped children (cutime + cstime of /proc/self/stat; zero elsewhere).</summary>
    private static TimeSpan ChildrenCpu()
    {
        if (!File.Exists("/proc/self/stat"))
        {
            return TimeSpan.Zero;
        }

        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    private static IEnumerable<int> ChildPids()
    {
        if (!System.IO.Directory.Exists("/proc/self/task"))
        {
            return [];
        }

        return System.IO.Directory.EnumerateDirectories("/proc/self/task")
            .SelectMany(task => ReadOrEmpty(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(pid => int.Parse(pid, CultureInfo.InvariantCulture))
            .Distinct();
    }

    private static long ReadRssKb(int pid)
    {
        var line = ReadOrEmpty($"/proc/{pid}/status").Split('\n').FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }
}
