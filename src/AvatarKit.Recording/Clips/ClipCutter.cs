using System.Globalization;
using System.Text;
using FFMpegCore;

namespace AvatarKit.Recording.Clips;

/// <summary>One stretch of a clip taken from one session segment.</summary>
/// <param name="File">The segment file.</param>
/// <param name="Offset">Where the stretch starts within the segment.</param>
/// <param name="Duration">How long the stretch is in session media time.</param>
internal sealed record ClipPart(string File, TimeSpan Offset, TimeSpan Duration);

/// <summary>
/// Cuts one clip out of a session file by re-encoding (frame-exact, self-contained, no edit lists;
/// about 0.13 s of CPU per clip-second per the media spec).
/// </summary>
/// <remarks>
/// FFMpegCore serves here: one-shot file-to-file jobs whose options it models well, with its own
/// process handling and error reporting (<see cref="FFMpegCore.Exceptions.FFMpegException"/> carries ffmpeg's output).
/// </remarks>
internal static class ClipCutter
{
    /// <summary>Cuts <c>[start, start + duration)</c> of <paramref name="source"/> into <paramref name="destination"/>.</summary>
    /// <param name="ffmpegPath">The ffmpeg executable.</param>
    /// <param name="source">The session (segment) file.</param>
    /// <param name="destination">The clip file.</param>
    /// <param name="start">Start within <paramref name="source"/>.</param>
    /// <param name="duration">The clip's length.</param>
    /// <param name="options">Codec settings.</param>
    /// <param name="cancellationToken">Cancels cutting (ffmpeg is stopped).</param>
    /// <returns>A task that completes when the clip is written.</returns>
    public static async Task CutAsync(string ffmpegPath, string source, string destination, TimeSpan start, TimeSpan duration, RecordingOptions options, CancellationToken cancellationToken)
    {
        await FFMpegArguments
            .FromFileInput(source, verifyExists: true, o => o.WithCustomArgument("-ss " + Seconds(start))) // -ss before -i: seeks by index, still frame-exact when re-encoding
            .OutputToFile(destination, overwrite: true, o => Encode(o.WithDuration(duration), options).WithCustomArgument("-map 0:v -map 0:a"))
            .CancellableThrough(cancellationToken)
            .ProcessAsynchronously(throwOnError: true, Options(ffmpegPath), cancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Cuts a clip whose range spans several segments (the encoder was restarted during the answer) into one file.
    /// Each part is held to its exact length in session media time: where a crashed segment ends early (the media
    /// its encoder had not written out yet), the last picture is held and silence is added, so everything after the
    /// splice keeps the session's timing. Part boundaries must be on the frame grid.
    /// </summary>
    /// <remarks>
    /// Timestamps are rebuilt per part from what is exact in a session file: video is constant frame rate by
    /// construction (frame n of a part is at n / fps), and each segment's audio starts with the AAC encoder's
    /// 1024-sample delay, which the muxer shifted in and which is dropped here.
    /// </remarks>
    /// <param name="ffmpegPath">The ffmpeg executable.</param>
    /// <param name="parts">The stretches, in order.</param>
    /// <param name="destination">The clip file.</param>
    /// <param name="options">Codec settings, frame rate and audio layout.</param>
    /// <param name="cancellationToken">Cancels cutting (ffmpeg is stopped).</param>
    /// <returns>A task that completes when the clip is written.</returns>
    public static async Task CutAcrossAsync(string ffmpegPath, IReadOnlyList<ClipPart> parts, string destination, RecordingOptions options, CancellationToken cancellationToken)
    {
        const int aacDelaySamples = 1024;
        var fps = options.FrameRate;
        var audioTracks = options.AudioLayout == RecordingAudioLayout.SeparateTracks ? 2 : 1;
        var graph = new StringBuilder();
        var concatInputs = new StringBuilder();
        for (var i = 0; i < parts.Count; i++)
        {
            var duration = parts[i].Duration;
            var frames = (long)Math.Round(duration.TotalSeconds * fps);
            var samples = (long)Math.Round(duration.TotalSeconds * Encoding.EncoderSettings.AudioSampleRate);
            graph.Append(CultureInfo.InvariantCulture, $"[{i}:v:0]setpts=N/{fps}/TB,tpad=stop_mode=clone:stop_duration={Seconds(duration)},trim=end_frame={frames}[v{i}];");
            concatInputs.Append(CultureInfo.InvariantCulture, $"[v{i}]");
            for (var a = 0; a < audioTracks; a++)
            {
                graph.Append(CultureInfo.InvariantCulture, $"[{i}:a:{a}]atrim=start_sample={aacDelaySamples},asetpts=PTS-STARTPTS,apad=whole_len={samples},atrim=end_sample={samples}[a{i}_{a}];");
                concatInputs.Append(CultureInfo.InvariantCulture, $"[a{i}_{a}]");
            }
        }

        graph.Append(concatInputs).Append(CultureInfo.InvariantCulture, $"concat=n={parts.Count}:v=1:a={audioTracks}[v]");
        var maps = new StringBuilder("-map [v]");
        for (var a = 0; a < audioTracks; a++)
        {
            graph.Append(CultureInfo.InvariantCulture, $"[a{a}]");
            maps.Append(CultureInfo.InvariantCulture, $" -map [a{a}]");
        }

        var arguments = FFMpegArguments.FromFileInput(parts[0].File, verifyExists: true, o => Input(o, parts[0]));
        foreach (var part in parts.Skip(1))
        {
            arguments = arguments.AddFileInput(part.File, verifyExists: true, o => Input(o, part));
        }

        // The graph has no spaces, so it passes as one argument without quoting.
        await arguments
            .OutputToFile(destination, overwrite: true, o => Encode(o.WithCustomArgument($"-filter_complex {graph} {maps}"), options))
            .CancellableThrough(cancellationToken)
            .ProcessAsynchronously(throwOnError: true, Options(ffmpegPath), cancellationToken)
            .ConfigureAwait(false);

        // A little more than the part is read, so that dropping the encoder delay leaves the whole part.
        static void Input(FFMpegInputOptions o, ClipPart part) =>
            o.WithCustomArgument($"-ss {Seconds(part.Offset)} -t {Seconds(part.Duration + TimeSpan.FromMilliseconds(200))}");
    }

    /// <summary>Reads how much media a (crashed) segment file really holds: its last complete fragment.</summary>
    /// <param name="ffmpegPath">The ffmpeg executable (ffprobe is looked up next to it).</param>
    /// <param name="file">The segment file.</param>
    /// <param name="cancellationToken">Cancels probing.</param>
    /// <returns>The playable duration, or null when ffprobe cannot tell.</returns>
    public static async Task<TimeSpan?> PlayableDurationAsync(string ffmpegPath, string file, CancellationToken cancellationToken)
    {
        try
        {
            var analysis = await FFProbe.AnalyseAsync(file, Options(ffmpegPath), cancellationToken: cancellationToken).ConfigureAwait(false);
            return analysis.Duration;
        }
        catch (Exception ex) when (ex is FFMpegCore.Exceptions.FFMpegException or System.ComponentModel.Win32Exception or IOException or FormatException or InvalidOperationException or System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static FFMpegOutputOptions Encode(FFMpegOutputOptions o, RecordingOptions options)
    {
        o.WithVideoCodec(options.VideoEncoder);
        if (options.IsX264)
        {
            o.WithCustomArgument($"-preset {options.Preset} -crf {options.Crf.ToString(CultureInfo.InvariantCulture)}");
        }

        return o.WithAudioCodec("aac").WithAudioBitrate(options.AudioBitrateKbps).WithFastStart();
    }

    private static FFOptions Options(string ffmpegPath) =>
        new() { BinaryFolder = Path.GetDirectoryName(ffmpegPath) ?? string.Empty, LogLevel = FFMpegCore.Enums.FFMpegLogLevel.Error };

    private static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
}
