using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace AvatarKit.Recording.Tests.Support;

/// <summary>Reads recorded files back with the real ffprobe/ffmpeg.</summary>
internal static class MediaProbe
{
    public static bool FfmpegAvailable { get; } = CanRun("ffmpeg") && CanRun("ffprobe");

    public static void SkipWithoutFfmpeg() => Assert.SkipUnless(FfmpegAvailable, "ffmpeg/ffprobe are not installed (apt-get install ffmpeg).");

    public static async Task<ProbeResult> ProbeAsync(string file)
    {
        var (json, error, code) = await RunAsync("ffprobe", ["-v", "error", "-show_entries", "format=duration:stream=index,codec_type,codec_name,width,height,sample_rate", "-of", "json", file]);
        Assert.True(code == 0, $"ffprobe failed on {Path.GetFileName(file)}: {error}");
        using var doc = JsonDocument.Parse(json);
        var streams = doc.RootElement.GetProperty("streams").EnumerateArray().Select(s => new ProbeStream(
            s.GetProperty("codec_type").GetString()!,
            s.GetProperty("codec_name").GetString()!,
            s.TryGetProperty("width", out var w) ? w.GetInt32() : 0,
            s.TryGetProperty("height", out var h) ? h.GetInt32() : 0)).ToList();
        var duration = doc.RootElement.GetProperty("format").TryGetProperty("duration", out var d) ? double.Parse(d.GetString()!, CultureInfo.InvariantCulture) : 0;
        return new ProbeResult(duration, streams);
    }

    /// <summary>Decodes the whole file (errors in a torn last fragment are tolerated) and returns how many video frames decoded.</summary>
    public static async Task<int> CountDecodableFramesAsync(string file)
    {
        var (output, _, _) = await RunAsync("ffprobe", ["-v", "quiet", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", file]);
        return int.TryParse(output.Trim().Split('\n')[0].Trim().TrimEnd(','), out var n) ? n : 0;
    }

    /// <summary>Decodes every frame (a torn last fragment is tolerated) and returns where the video and the audio end (s).</summary>
    public static async Task<(double VideoEnd, double AudioEnd)> DecodedEndsAsync(string file)
    {
        var (output, _, _) = await RunAsync("ffprobe", ["-v", "quiet", "-show_entries", "frame=media_type,pts_time", "-of", "csv=p=0", file]);
        double video = 0, audio = 0;
        foreach (var fields in output.Split('\n').Select(l => l.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Where(f => f.Length == 2))
        {
            if (!double.TryParse(fields[1], CultureInfo.InvariantCulture, out var pts))
            {
                continue;
            }

            if (fields[0] == "video")
            {
                video = Math.Max(video, pts + 0.040);
            }
            else if (fields[0] == "audio")
            {
                audio = Math.Max(audio, pts + (1024 / 48_000.0));
            }
        }

        return (video, audio);
    }

    /// <summary>Decodes the video and reads the frame counter <see cref="SyntheticAvatar"/> draws on every frame, in decoding order.</summary>
    public static async Task<IReadOnlyList<int>> FrameCountersAsync(string file)
    {
        const int stripY = SyntheticAvatar.Height - 96;
        var startInfo = Start("ffmpeg", ["-v", "quiet", "-nostdin", "-i", file, "-map", "0:v:0", "-vf", $"crop={SyntheticAvatar.Width}:64:0:{stripY}", "-pix_fmt", "gray", "-f", "rawvideo", "-"]);
        using var process = Process.Start(startInfo)!;
        var strip = new byte[SyntheticAvatar.Width * 64];
        List<int> counters = [];
        while (await ReadFullyAsync(process.StandardOutput.BaseStream, strip))
        {
            var n = 0;
            for (var bit = 0; bit < 16; bit++)
            {
                // The middle of each 64x64 block.
                if (strip[(32 * SyntheticAvatar.Width) + 16 + (bit * 78) + 32] > 128)
                {
                    n |= 1 << bit;
                }
            }

            counters.Add(n);
        }

        await process.WaitForExitAsync();
        return counters;
    }

    private static async Task<bool> ReadFullyAsync(Stream stream, byte[] buffer)
    {
        var filled = 0;
        while (filled < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(filled));
            if (read == 0)
            {
                return false;
            }

            filled += read;
        }

        return true;
    }

    /// <summary>Times (s) at which the picture turns white (mean luma over 150 after a darker frame).</summary>
    public static async Task<IReadOnlyList<double>> WhiteFrameOnsetsAsync(string file)
    {
        var (output, error, code) = await RunAsync("ffmpeg", ["-v", "error", "-nostdin", "-i", file, "-map", "0:v:0", "-vf", "signalstats,metadata=mode=print:key=lavfi.signalstats.YAVG:file=-", "-f", "null", "-"]);
        Assert.True(code == 0, $"ffmpeg signalstats failed: {error}");
        List<double> onsets = [];
        double? time = null;
        var wasWhite = false;
        foreach (var line in output.Split('\n'))
        {
            var ptsAt = line.IndexOf("pts_time:", StringComparison.Ordinal);
            if (ptsAt >= 0)
            {
                time = double.Parse(line[(ptsAt + 9)..].Trim(), CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("lavfi.signalstats.YAVG=", StringComparison.Ordinal) && time is { } t)
            {
                var white = double.Parse(line["lavfi.signalstats.YAVG=".Length..], CultureInfo.InvariantCulture) > 150;
                if (white && !wasWhite)
                {
                    onsets.Add(t);
                }

                wasWhite = white;
            }
        }

        return onsets;
    }

    /// <summary>Decodes an audio track to 48 kHz mono samples.</summary>
    public static async Task<short[]> DecodeAudioAsync(string file, int track = 0)
    {
        var startInfo = Start("ffmpeg", ["-v", "error", "-nostdin", "-i", file, "-map", $"0:a:{track}", "-f", "s16le", "-ac", "1", "-ar", "48000", "-"]);
        using var process = Process.Start(startInfo)!;
        using var memory = new MemoryStream();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.BaseStream.CopyToAsync(memory);
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"ffmpeg audio decode failed: {await stderr}");
        var bytes = memory.ToArray();
        var samples = new short[bytes.Length / 2];
        Buffer.BlockCopy(bytes, 0, samples, 0, samples.Length * 2);
        return samples;
    }

    /// <summary>Times (s) at which a beep starts: a sample above a quarter of full scale after at least 200 ms below it.</summary>
    public static IReadOnlyList<double> BeepOnsets(short[] samples)
    {
        List<double> onsets = [];
        var lastLoud = -48_000L;
        for (var i = 0; i < samples.Length; i++)
        {
            if (Math.Abs((int)samples[i]) > 8_000)
            {
                if (i - lastLoud > 9_600)
                {
                    onsets.Add(i / 48_000.0);
                }

                lastLoud = i;
            }
        }

        return onsets;
    }

    /// <summary>Peak absolute sample in <c>[from, to)</c> seconds.</summary>
    public static int Peak(short[] samples, double from, double to) =>
        samples.Skip((int)(from * 48_000)).Take((int)((to - from) * 48_000)).Select(s => Math.Abs((int)s)).DefaultIfEmpty(0).Max();

    public static async Task<(string Output, string Error, int ExitCode)> RunAsync(string file, IEnumerable<string> arguments)
    {
        using var process = Process.Start(Start(file, arguments))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (await output, await error, process.ExitCode);
    }

    private static ProcessStartInfo Start(string file, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }

    private static bool CanRun(string tool)
    {
        try
        {
            using var process = Process.Start(Start(tool, ["-version"]))!;
            process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}

internal sealed record ProbeStream(string Type, string Codec, int Width, int Height);

internal sealed record ProbeResult(double Duration, IReadOnlyList<ProbeStream> Streams)
{
    public ProbeStream Video => Streams.Single(s => s.Type == "video");

    public IReadOnlyList<ProbeStream> Audio => [.. Streams.Where(s => s.Type == "audio")];
}
