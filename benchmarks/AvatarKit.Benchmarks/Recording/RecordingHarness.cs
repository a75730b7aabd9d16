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
/// the same 720p25 frames, several concurrent live recordings on this machine, and RSS drift of a live
/// recording. Durations come from <c>AVATARKIT_REC_SECONDS</c> (default 20 s; the full figures use 600).
/// Run: <c>dotnet run -c Release --project benchmarks/AvatarKit.Benchmarks -- --filter '*RecordingHarness*'</c>.
/// </summary>
[Config(typeof(HarnessConfig))]
public class RecordingHarness
{
    private const int Fps = 25;
    private static readonly TimeSpan FrameDuration = TimeSpan.FromMilliseconds(40);
    private readonly VideoFrame[] _frames = new VideoFrame[Fps * 2];
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
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        Array.ForEach(_frames, f => f?.Dispose());
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

    /// <summary>RSS of this process and of ffmpeg during one live recording.</summary>
    [Benchmark]
    public async Task RssDuringLiveRecording()
    {
        var media = TimeSpan.FromSeconds(Math.Max(Seconds * 3, 30));
        var recording = (FfmpegSessionRecording)await new FfmpegSessionRecorder(new RecordingOptions { OutputDirectory = _directory }).StartAsync(
            new SessionRecordingRequest { SessionId = "rss", Video = Paced(Video(media, recording: null)), Audio = Paced(Audio(media)) });
        List<(double At, long Self, long Ffmpeg)> samples = [];
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < media)
        {
            await Task.Delay(1000);
            GC.Collect();
            samples.Add((clock.Elapsed.TotalSeconds, Environment.WorkingSet, ReadRss(recording.EncoderProcessId)));
        }

        var result = await recording.CompleteAsync();
        var settled = samples.SkipWhile(s => s.At < 10).ToList();
        Report($"RSS over {media.TotalSeconds:0} s live ({result.DroppedVideoFrames} dropped): dotnet {Mb(settled[0].Self)} -> {Mb(settled[^1].Self)} MB (max {Mb(settled.Max(s => s.Self))}), ffmpeg {Mb(settled[0].Ffmpeg)} -> {Mb(settled[^1].Ffmpeg)} MB (max {Mb(settled.Max(s => s.Ffmpeg))}), from 10 s on");
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

    private async IAsyncEnumerable<VideoFrame> Video(TimeSpan media, FfmpegSessionRecording?[]? recording, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var n = 0; n < media / FrameDuration; n++)
        {
            var t = n * FrameDuration;
            while (recording?[0] is { } r && r.WrittenDuration < t - TimeSpan.FromSeconds(0.2))
            {
                await Task.Delay(2, cancellationToken);
            }

            yield return _frames[n % _frames.Length].Clone(t);
        }
    }

    private static async IAsyncEnumerable<AudioFrame> Audio(TimeSpan media, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        for (var t = TimeSpan.Zero; t < media; t += TimeSpan.FromMilliseconds(20))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var frame = AudioFrame.Rent(AudioFormat.Pcm16Mono48kHz, 1920, t);
            frame.Samples.Clear();
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
                .WithToolchain(InProcessEmitToolchain.Instance));
        }
    }

    private sealed record Usage(TimeSpan Wall, TimeSpan SelfCpu, TimeSpan ChildCpu)
    {
        public TimeSpan TotalCpu => SelfCpu + ChildCpu;

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"wall {Wall.TotalSeconds:0.00} s, CPU {TotalCpu.TotalSeconds:0.00} s (dotnet {SelfCpu.TotalSeconds:0.00} s + ffmpeg {ChildCpu.TotalSeconds:0.00} s)");
    }
}
