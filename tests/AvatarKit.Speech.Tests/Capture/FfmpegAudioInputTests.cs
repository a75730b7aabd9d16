using System.Diagnostics;
using AvatarKit.Speech.Capture;
using AvatarKit.Testing.Voice;

namespace AvatarKit.Speech.Tests.Capture;

public sealed class FfmpegAudioInputTests
{
    private static readonly AudioFormat Format = AudioFormat.Pcm16Mono16kHz;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Captures_what_is_played_into_a_PulseAudio_microphone_with_the_same_waveform_and_level()
    {
        var missing = await VirtualMicrophone.MissingPrerequisiteAsync();
        Assert.SkipWhen(missing is not null, missing ?? string.Empty);
        await using var microphone = await VirtualMicrophone.CreateAsync();
        var wav = Path.Combine(Path.GetTempPath(), $"akspeech-{Guid.NewGuid():N}.wav");
        await SpokenWav.WriteAsync(wav, "Hello avatar, what is the weather like today?", Format.SampleRate, TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(300), Token);
        var source = Pcm16.AsSamples(await SpokenWav.SynthesizePcmAsync("Hello avatar, what is the weather like today?", Format.SampleRate, TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(300), Token)).ToArray();
        var input = new FfmpegAudioInput(microphone.Source, "pulse");
        var captured = new List<short>();
        var arrivals = new List<(long Sample, TimeSpan At)>();
        var clock = Stopwatch.StartNew();
        TimeSpan? playedAt = null;
        Process? player = null;
        var heardSpeech = false;
        var quietAfterSpeech = 0;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Token);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await foreach (var frame in input.CaptureAsync(Format, deadline.Token))
            {
                using (frame)
                {
                    captured.AddRange(frame.Samples.ToArray());
                    arrivals.Add((captured.Count, clock.Elapsed));
                    var loud = Pcm16.GetRmsDbfs(frame.Samples) > -40;
                    heardSpeech |= loud;
                    quietAfterSpeech = heardSpeech && !loud ? quietAfterSpeech + 1 : 0;
                }

                // Start playing once capture runs, and stop after a second of quiet following the speech.
                if (playedAt is null)
                {
                    playedAt = clock.Elapsed;
                    player = microphone.Play(wav);
                }
                else if (quietAfterSpeech >= 50)
                {
                    break;
                }
            }
        }
        finally
        {
            player?.Dispose();
            File.Delete(wav);
        }

        Assert.True(heardSpeech, "no speech was captured");
        var samples = captured.ToArray();
        var lag = FindLag(source, samples);
        var correlation = Correlation(source, samples, lag);
        var sourceLevel = Pcm16.GetRmsDbfs(source);
        var capturedLevel = Pcm16.GetRmsDbfs(samples.AsSpan(lag, source.Length));
        Assert.True(correlation > 0.9, $"normalized cross-correlation peak {correlation:F3} at lag {lag}");
        Assert.InRange(capturedLevel - sourceLevel, -1.0, 1.0);

        // Capture latency: when the sample that was played first came out of the capture, after playback started.
        var onset = Array.FindIndex(source, s => Math.Abs((int)s) > 1000);
        var arrival = arrivals.First(a => a.Sample > lag + onset).At;
        var latency = arrival - playedAt!.Value - Format.GetDuration(onset * 2);
        TestContext.Current.TestOutputHelper?.WriteLine($"capture latency (paplay start to captured onset, virtual PulseAudio path): {latency.TotalMilliseconds:F0} ms; correlation {correlation:F3}; level {sourceLevel:F2} vs {capturedLevel:F2} dBFS");
        Assert.True(latency > TimeSpan.Zero);
    }

    [Fact]
    public async Task A_missing_ffmpeg_says_how_to_install_it()
    {
        var input = new FfmpegAudioInput(ffmpegPath: "/nonexistent/ffmpeg");

        var error = await Assert.ThrowsAsync<AudioInputException>(async () =>
        {
            await foreach (var frame in input.CaptureAsync(Format, Token))
            {
                frame.Dispose();
            }
        });

        Assert.Contains("apt-get install ffmpeg", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_PulseAudio_source_fails_with_a_hint()
    {
        var missing = await VirtualMicrophone.MissingPrerequisiteAsync();
        Assert.SkipWhen(missing is not null, missing ?? string.Empty);
        var input = new FfmpegAudioInput("no_such_source_akspeech", "pulse");

        var error = await Assert.ThrowsAsync<AudioInputException>(async () =>
        {
            await foreach (var frame in input.CaptureAsync(Format, Token))
            {
                frame.Dispose();
            }
        });

        Assert.Contains("pactl list short sources", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Device_listing_includes_the_virtual_microphone()
    {
        var missing = await VirtualMicrophone.MissingPrerequisiteAsync();
        Assert.SkipWhen(missing is not null, missing ?? string.Empty);
        await using var microphone = await VirtualMicrophone.CreateAsync();

        var devices = await new FfmpegAudioInput().ListDevicesAsync(Token);

        Assert.Contains(devices, d => d.Id == microphone.Source);
    }

    private static int FindLag(short[] source, short[] captured)
    {
        // Coarse: align the first loud 10 ms blocks; fine: best correlation within ±100 ms of that.
        static int Onset(short[] samples)
        {
            for (var i = 0; i + 160 <= samples.Length; i += 160)
            {
                if (Pcm16.GetRmsDbfs(samples.AsSpan(i, 160)) > -35)
                {
                    return i;
                }
            }

            return 0;
        }

        var coarse = Onset(captured) - Onset(source);
        var best = coarse;
        var bestScore = double.MinValue;
        for (var lag = Math.Max(0, coarse - 1600); lag <= Math.Min(captured.Length - source.Length, coarse + 1600); lag++)
        {
            var score = Correlation(source, captured, lag);
            if (score > bestScore)
            {
                bestScore = score;
                best = lag;
            }
        }

        return best;
    }

    private static double Correlation(short[] source, short[] captured, int lag)
    {
        double dot = 0, a = 0, b = 0;
        for (var i = 0; i < source.Length && i + lag < captured.Length; i++)
        {
            double x = source[i], y = captured[i + lag];
            dot += x * y;
            a += x * x;
            b += y * y;
        }

        return a == 0 || b == 0 ? 0 : dot / Math.Sqrt(a * b);
    }
}
