using System.Diagnostics;
using System.Globalization;

namespace AvatarKit.Benchmarks.Recording;

/// <summary>One marker of the soak: a white frame and the beep that starts with it.</summary>
/// <param name="Video">When the white frame shows (s).</param>
/// <param name="SkewMs">Beep onset minus white-frame onset (ms).</param>
/// <param name="VideoLateMs">White-frame onset minus the marker's source timestamp (ms).</param>
internal sealed record SyncMarker(double Video, double SkewMs, double VideoLateMs);

/// <summary>Decodes a recorded file with the real ffmpeg and pairs white-frame onsets with beep onsets.</summary>
internal static class SyncProbe
{
    public static async Task<IReadOnlyList<SyncMarker>> MeasureAsync(string file)
    {
        var frames = await WhiteOnsetsAsync(file);
        var beeps = await BeepOnsetsAsync(file);
        List<SyncMarker> markers = [];
        foreach (var v in frames)
        {
            var nearest = beeps.MinBy(a => Math.Abs(a - v));
            if (Math.Abs(nearest - v) < 0.5)
            {
                // Markers are at 0.4 s of each second of the source's timestamps.
                var expected = Math.Round(v - 0.4) + 0.4;
                markers.Add(new SyncMarker(v, (nearest - v) * 1000, (v - expected) * 1000));
            }
        }

        return markers;
    }

    private static async Task<List<double>> WhiteOnsetsAsync(string file)
    {
        // Scaled down first: the mean luma is all that is needed, and full-size signalstats over 10 minutes is slow.
        using var process = Start(["-v", "error", "-nostdin", "-i", file, "-map", "0:v:0", "-vf", "scale=64:36,signalstats,metadata=mode=print:key=lavfi.signalstats.YAVG:file=-", "-f", "null", "-"]);
        List<double> onsets = [];
        double? time = null;
        var wasWhite = false;
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            var at = line.IndexOf("pts_time:", StringComparison.Ordinal);
            if (at >= 0)
            {
                time = double.Parse(line[(at + 9)..].Trim(), CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("lavfi.signalstats.YAVG=", StringComparison.Ordinal) && time is { } t)
            {
                var white = double.Parse(line["lavfi.signalstats.YAVG=".Length..], CultureInfo.InvariantCulture) > 200;
                if (white && !wasWhite)
                {
                    onsets.Add(t);
                }

                wasWhite = white;
            }
        }

        await process.WaitForExitAsync();
        return onsets;
    }

    private static async Task<List<double>> BeepOnsetsAsync(string file)
    {
        using var process = Start(["-v", "error", "-nostdin", "-i", file, "-map", "0:a:0", "-f", "s16le", "-ac", "1", "-ar", "48000", "-"]);
        List<double> onsets = [];
        var buffer = new byte[96_000];
        long index = 0;
        var lastLoud = -48_000L;
        var carry = -1;
        int read;
        while ((read = await process.StandardOutput.BaseStream.ReadAsync(buffer)) > 0)
        {
            var i = 0;
            if (carry >= 0)
            {
                Check((short)(carry | (buffer[0] << 8)));
                i = 1;
                carry = -1;
            }

            for (; i + 1 < read; i += 2)
            {
                Check((short)(buffer[i] | (buffer[i + 1] << 8)));
            }

            if (i < read)
            {
                carry = buffer[i];
            }
        }

        await process.WaitForExitAsync();
        return onsets;

        // A beep starts at a sample above a quarter of full scale after at least 200 ms below it.
        void Check(short sample)
        {
            if (Math.Abs((int)sample) > 8_000)
            {
                if (index - lastLoud > 9_600)
                {
                    onsets.Add(index / 48_000.0);
                }

                lastLoud = index;
            }

            index++;
        }
    }

    private static Process Start(IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo("ffmpeg") { RedirectStandardOutput = true, RedirectStandardError = false, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return Process.Start(info)!;
    }
}
