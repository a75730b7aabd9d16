using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using AvatarKit.Recording.Encoding;
using AvatarKit.Recording.Session;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace AvatarKit.Benchmarks.Recording;

/// <summary>
/// Recorder harness (one run each, numbers printed): CPU of the recorder against bare ffmpeg encoding
/// the same 720p25 frames, several concurrent live recordings on this machine, and a live soak (RSS over time,
/// A/V sync at start, middle and end). Durations come from <c>AVATARKIT_REC_SECONDS</c> (default 20 s; the full
/// figures use 600).
/// Run: <c>dotnet run -c Release --project benchmarks/AvatarKit.Benchmarks -- --filter '*RecordingHarness*'</c>.
/// </summary>
[Config(typeof(HarnessConfig))]
public class RecordingHarness
{
    private const int Fps = 25;
    private static readonly TimeSpan FrameDuration = TimeSpan.FromMilliseconds(40);
    /// <summary>The frame of each second that is white in the soak (0.4 s), where the beep starts.</summary>
    private const int MarkerFrame = 10;
    private static readonly double[] RssReportPoints = [0.02, 0.1, 0.25, 0.5, 0.75, 1.0];
    private readonly VideoFrame[] _frames = new VideoFrame[Fps * 2];
    private VideoFrame _white = null!;
    private string _directory = string.Empty;

    private static int Seconds => int.TryParse(Environment.GetEnvironmentVariable("AVATARKIT_REC_SECONDS"), CultureInfo.InvariantCulture, out var s) ? s : 20;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "avatarkit-rec-bench");
        Directory.CreateDirectory(_directory);

        // Moving content, so x264 has real work (a static picture would cost almost nothing).
        for (var n = 0; n < _frames.Length; n++)
        {
            var frame = VideoFrame.Rent(1280, 720, VideoPixelFormat.I420, TimeSpan.Zero);
            var y = frame.PlaneY;
            for (var row = 0; row < 720; row++)
            {
                for (var x = 0; x < 1280; x++)
                {
                    y[(row * 1280) + x] = (byte)((x + row + (8 * n)) & 0xFF);
                }
            }

            frame.PlaneU.Fill((byte)(100 + n));
            frame.PlaneV.Fill(128);
            _frames[n] = frame;
        }

        _white = VideoFrame.Rent(1280, 720, VideoPixelFormat.I420, TimeSpan.Zero);
        _white.PlaneY.Fill(235);
        _white.PlaneU.Fill(128);
        _white.PlaneV.Fill(128);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Array.ForEach(_frames, f => f?.Dispose());
        _white.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>Bare ffmpeg (the recorder's own command line) vs the recorder, same frames, as fast as the encoder goes.</summary>
    [Benchmark]
    public async Task CpuAgainstBareFfmpeg()
    {
        var options = new RecordingOptions { OutputDirectory = _directory };
        var media = TimeSpan.FromSeconds(Seconds);

        var pcm = Path.Combine(_directory, "silence.pcm");
        await File.WriteAllBytesAsync(pcm, new byte[Seconds * 96_000]);
        var bare = await MeasureAsync(async () =>
        {
            var info = new ProcessStartInfo("ffmpeg") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var argument in new EncoderSettings("ffmpeg", options, [pcm]).BuildArguments())
            {
                info.ArgumentList.Add(argument);
            }

            using var process = Process.Start(info)!;
            var drain = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null);
            for (var n = 0; n < Seconds * Fps; n++)
            {
                await process.StandardInput.BaseStream.WriteAsync(_frames[n % _frames.Length].Memory);
            }

            process.StandardInput.Close();
            await drain;
            await process.WaitForExitAsync();
        });

        long dropped = 0;
        var recorder = await MeasureAsync(async () =>
        {
            var recording = (FfmpegSessionRecording)await new FfmpegSessionRecorder(options).StartAsync(
                new SessionRecordingRequest { SessionId = "cpu", Video = Video(media, recording: null), Audio = Audio(media) });
            var result = await recording.CompleteAsync();
            dropped = result.DroppedVideoFrames;
        });

        // The recorder run above is not paced; repeat it paced by what the encoder took, so no frame is dropped.
        var paced = await MeasureAsync(async () =>
        {
            var holder = new FfmpegSessionRecording?[1];
            var recording = (FfmpegSessionRecording)await new FfmpegSessionRecorder(options).StartAsync(
                new SessionRecordingRequest { SessionId = "cpu-paced", Video = Video(media, holder), Audio = Audio(media) });
            holder[0] = recording;
            while (recording.ReceivedDuration < media)
            {
                await Task.Delay(20);
            }

            dropped = (await recording.CompleteAsync()).DroppedVideoFrames;
        });

        Report($"bare ffmpeg: {bare}");
        Report($"recorder (all frames, paced by the encoder, {dropped} dropped): {paced}");
        Report($"recorder / bare ffmpeg CPU = {paced.TotalCpu.TotalSeconds / bare.ChildCpu.TotalSeconds:0.00}x (bare incl. its feeder: {paced.TotalCpu.TotalSeconds / bare.TotalCpu.TotalSeconds:0.00}x)");
        Report($"(unpaced recorder, encoder skips frames it cannot take: {recorder})");
    }

    /// <summary>Four live (real-time) 720p25 recordings at once.</summary>
    [Benchmark]
    public async Task FourConcurrentLiveRecordings()
    {
        var media = TimeSpan.FromSeconds(Seconds);
        var results = new SessionRecordingResult[4];
        var usage = await MeasureAsync(async () =>
        {
            var recorder = new FfmpegSessionRecorder(new RecordingOptions { OutputDirectory = _directory });
            await Task.WhenAll(Enumerable.Range(0, 4).Select(async i =>
            {
                var recording = await recorder.StartAsync(new SessionRecordingRequest
                {
                    SessionId = $"live{i}",
                    Video = Paced(Video(media, recording: null)),
                    Audio = Paced(Audio(media)),
                });
                await Task.Delay(media + TimeSpan.FromMilliseconds(500));
                results[i] = await recording.CompleteAsync();
            }));
        });

        Report($"4 live recordings of {Seconds} s on {Environment.ProcessorCount} cores: dropped video frames {string.Join(", ", results.Select(r => r.DroppedVideoFrames))}; durations {string.Join(", ", results.Select(r => r.Duration.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture)))} s");
        Report($"CPU {usage}; = {usage.TotalCpu.TotalSeconds / usage.Wall.TotalSeconds * 100 / Environment.ProcessorCount:0}% of the machine");
    }

    /// <summary>
    /// The soak: one live recording of <c>AVATARKIT_REC_SECONDS</c> (at least 30 s) whose frames carry a white marker
    /// frame and whose audio carries a beep at 0.4 s of every second. Reports RSS of this process and of ffmpeg over
    /// time, then decodes the file and reports A/V sync (beep onset minus white-frame onset) at start, middle and end.
    /// </summary>
    [Benchmark]
    public async Task LiveSoakRssAndSync()
    {
        var media = TimeSpan.FromSeconds(Math.Max(Seconds, 30));
        var recording = (FfmpegSessionRecording)await new FfmpegSessionRecorder(new RecordingOptions { OutputDirectory = _directory }).StartAsync(
            new SessionRecordingRequest { SessionId = "soak", Video = Paced(Video(media, recording: null, markers: true)), Audio = Paced(Audio(media, beeps: true)) });
        List<(double At, long Self, long Ffmpeg)> samples = [];
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < media)
        {
            await Task.Delay(1000);
            GC.Collect();
            samples.Add((clock.Elapsed.TotalSeconds, Environment.WorkingSet, ReadRss(recording.EncoderProcessId)));
        }

        var result = await recording.CompleteAsync();
        Report($"soak of {media.TotalSeconds:0} s live: {result.DroppedVideoFrames} video frames dropped, duration {result.Duration.TotalSeconds:0.000} s");
        Report("RSS over time (s: dotnet MB / ffmpeg MB): " + string.Join(", ", RssReportPoints
            .Select(f => samples[Math.Min(samples.Count - 1, (int)(f * samples.Count))])
            .Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.At:0}: {Mb(s.Self)} / {Mb(s.Ffmpeg)}"))));
        var tenth = Math.Max(1, samples.Count / 10);
        double Drift(Func<(double At, long Self, long Ffmpeg), long> value) =>
            (Median(samples.Skip(samples.Count - tenth).Select(value)) - Median(samples.Skip(tenth).Take(tenth).Select(value))) / 1048576.0;
        Report(string.Create(CultureInfo.InvariantCulture, $"RSS drift (median of the last tenth minus the second tenth): dotnet {Drift(s => s.Self):0.0} MB, ffmpeg {Drift(s => s.Ffmpeg):0.0} MB; max dotnet {Mb(samples.Max(s => s.Self))} MB, max ffmpeg {Mb(samples.Max(s => s.Ffmpeg))} MB"));

        var sync = await SyncProbe.MeasureAsync(result.SessionFilePath);
        Report($"markers found: {sync.Count} white frames paired with beeps, of {(int)media.TotalSeconds} written");
        var third = Math.Max(1, Math.Min(10, sync.Count / 3));
        foreach (var (name, part) in new[] { ("start", sync.Take(third)), ("middle", sync.Skip((sync.Count - third) / 2).Take(third)), ("end", sync.Skip(sync.Count - third)) })
        {
            var list = part.ToList();
            Report(string.Create(CultureInfo.InvariantCulture, $"A/V sync at {name} ({list[0].Video:0.0}-{list[^1].Video:0.0} s, {list.Count} markers): beep - frame = {list.Average(p => p.SkewMs):0.0} ms mean, {list.Max(p => Math.Abs(p.SkewMs)):0.0} ms max |skew|; frame vs. its source timestamp {list.Average(p => p.VideoLateMs):0.0} ms"));
        }

        Report(string.Create(CultureInfo.InvariantCulture, $"A/V sync over the whole run: max |skew| {sync.Max(p => Math.Abs(p.SkewMs)):0.0} ms (target <= 40 ms)"));
    }

    private static double Median(IEnumerable<long> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }

    private static string Mb(long bytes) => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture);

    private static long ReadRss(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException)
        {
            return 0;
        }
    }

    private static void Report(string line) => Console.WriteLine("// RecordingHarness: " + line);

    private static async Task<Usage> MeasureAsync(Func<Task> run)
    {
        var self = Process.GetCurrentProcess().TotalProcessorTime;
        var children = ChildrenCpu();
        var wall = Stopwatch.StartNew();
        await run();
        wall.Stop();
        return new Usage(wall.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - self, ChildrenCpu() - children);
    }

    private static TimeSpan ChildrenCpu()
    {
        // cutime + cstime of /proc/self/stat: CPU of children that exited and were reaped (the runtime reaps
        // its child processes), in clock ticks of 1/100 s on Linux.
        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    private static async IAsyncEnumerable<T> Paced<T>(IAsyncEnumerable<T> source, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        where T : MediaFrame
    {
        var clock = Stopwatch.StartNew();
        await foreach (var frame in source.WithCancellation(cancellationToken))
        {
            var wait = frame.Timestamp - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            yield return frame;
        }
    }

    private async IAsyncEnumerable<VideoFrame> Video(TimeSpan media, FfmpegSessionRecording?[]? recording, bool markers = false, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var n = 0; n < media / FrameDuration; n++)
        {
            var t = n * FrameDuration;
            while (recording?[0] is { } r && r.WrittenDuration < t - TimeSpan.FromSeconds(0.2))
            {
                await Task.Delay(2, cancellationToken);
            }

            yield return (markers && n % Fps == MarkerFrame ? _white : _frames[n % _frames.Length]).Clone(t);
        }
    }

    private static async IAsyncEnumerable<AudioFrame> Audio(TimeSpan media, bool beeps = false, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        for (var t = TimeSpan.Zero; t < media; t += TimeSpan.FromMilliseconds(20))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var frame = AudioFrame.Rent(AudioFormat.Pcm16Mono48kHz, 1920, t);
            var samples = frame.Samples;
            var first = (long)Math.Round(t.TotalSeconds * 48_000);
            for (var i = 0; i < samples.Length; i++)
            {
                // A 100 ms 1 kHz beep starting with the marker frame.
                var s = first + i;
                samples[i] = beeps && s % 48_000 is >= MarkerFrame * 1_920 and < (MarkerFrame * 1_920) + 4_800 ? (short)(16_000 * Math.Sin(2 * Math.PI * 1_000 * s / 48_000)) : (short)0;
            }

            yield return frame;
        }
    }

    /// <summary>One in-process run per scenario: each measures itself and prints its figures.</summary>
    private sealed class HarnessConfig : ManualConfig
    {
        public HarnessConfig()
        {
            AddJob(Job.Default
                .WithStrategy(RunStrategy.Monitoring)
                .WithLaunchCount(1)
                .WithWarmupCount(0)
                .WithIterationCount(1)
                // The default in-process toolchain gives up after five minutes; the soak runs ten and more.
                .WithToolchain(new InProcessEmitToolchain(TimeSpan.FromHours(2), logOutput: true)));
        }
    }

    private sealed record Usage(TimeSpan Wall, TimeSpan SelfCpu, TimeSpan ChildCpu)
    {
        public TimeSpan TotalCpu => SelfCpu + ChildCpu;

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"wall {Wall.TotalSeconds:0.00} s, CPU {TotalCpu.TotalSeconds:0.00} s (dotnet {SelfCpu.TotalSeconds:0.00} s + ffmpeg {ChildCpu.TotalSeconds:0.00} s)");
    }
}
