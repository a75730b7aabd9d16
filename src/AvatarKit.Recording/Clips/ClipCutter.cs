using System.Globalization;
using System.Text;
using FFMpegCore;

namespace AvatarKit.Recording.Clips;

/// <summary>A session file and the stretch of session media time it holds.</summary>
/// <param name="File">The segment file.</param>
/// <param name="Start">Where it starts in session media time.</param>
/// <param name="End">Where it ends in session media time (what was handed to its encoder).</param>
internal sealed record SegmentSpan(string File, TimeSpan Start, TimeSpan End);

/// <summary>A clip cut out of the session files.</summary>
/// <param name="FilePath">The clip file.</param>
/// <param name="Start">Its start in session media time.</param>
/// <param name="End">Its end in session media time.</param>
/// <param name="Gaps">The stretches a crashed segment lost (held picture, silence); null when cut from one segment.</param>
internal sealed record CutClip(string FilePath, TimeSpan Start, TimeSpan End, IReadOnlyList<SidecarGap>? Gaps)
{
    /// <summary>Describes the clip for <see cref="ISessionRecording.Clips"/> and its callers.</summary>
    /// <param name="text">What the avatar said, when known.</param>
    /// <returns>The clip.</returns>
    public RecordedClip ToRecordedClip(string? text) => new(FilePath, Start, End, text);
}

/// <summary>One stretch of a clip taken from one session segment.</summary>
/// <param name="File">The segment file.</param>
/// <param name="Offset">Where the stretch starts within the segment.</param>
/// <param name="Duration">How long the stretch is in session media time.</param>
/// <param name="Lost">
/// Whether the whole stretch is media a crashed segment lost: it is read from the segment's last picture (held) and is silent.
/// </param>
internal sealed record ClipPart(string File, TimeSpan Offset, TimeSpan Duration, bool Lost = false);

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
    private static readonly TimeSpan MinimumClip = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Gets the clip cuts allowed at once in this process: one per two cores, so that cutting (a re-encode) never takes
    /// the CPU live encoders need; under load, clips wait instead of live frames dropping.
    /// </summary>
    internal static SemaphoreSlim Slots { get; } = new(Math.Max(1, Environment.ProcessorCount / 2));

    /// <summary>
    /// Cuts <c>[start, end)</c> of the session into a new <c>voice_task_&lt;time&gt;.mp4</c> in <paramref name="directory"/>:
    /// from one segment, or across segments when the encoder was restarted during the range. Waits for a free
    /// <see cref="Slots">slot</see>. The range is clamped to what the segments hold.
    /// </summary>
    /// <param name="ffmpegPath">The ffmpeg executable.</param>
    /// <param name="segments">The session files, in order.</param>
    /// <param name="start">Start in session media time.</param>
    /// <param name="end">End in session media time.</param>
    /// <param name="directory">Where the clip goes.</param>
    /// <param name="wallStart">When the answer started; names the file.</param>
    /// <param name="options">Codec settings, frame rate and audio layout of the session.</param>
    /// <param name="cancellationToken">Cancels cutting (ffmpeg is stopped and the partial clip deleted).</param>
    /// <returns>The clip, or null when the segments hold less than 100 ms of the range.</returns>
    /// <exception cref="RecordingException">ffmpeg failed.</exception>
    /// <exception cref="OperationCanceledException">Cutting was cancelled.</exception>
    public static async Task<CutClip?> CutRangeAsync(string ffmpegPath, IReadOnlyList<SegmentSpan> segments, TimeSpan start, TimeSpan end, string directory, DateTimeOffset wallStart, RecordingOptions options, CancellationToken cancellationToken)
    {
        // Usually one segment; several when the encoder was restarted during the answer.
        SegmentSpan[] spanned = [.. segments.Where(s => s.Start < end && s.End > start)];
        if (spanned.Length == 0)
        {
            return null;
        }

        var lastEnd = spanned[^1].End;
        end = end > lastEnd ? lastEnd : end;
        if (end - start < MinimumClip)
        {
            return null;
        }

        await Slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        var path = ClipPath(directory, wallStart);
        List<SidecarGap>? gaps = null;
        try
        {
            if (spanned.Length == 1)
            {
                await CutAsync(ffmpegPath, spanned[0].File, path, start - spanned[0].Start, end - start, options, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // On the frame grid (segments start on it), so that every part is whole frames long.
                var frame = TimeSpan.FromTicks(TimeSpan.TicksPerSecond / options.FrameRate);
                start = TimeSpan.FromTicks(start.Ticks / frame.Ticks * frame.Ticks);
                end = TimeSpan.FromTicks((end.Ticks + frame.Ticks - 1) / frame.Ticks * frame.Ticks);
                end = end > lastEnd ? lastEnd : end;

                // What each crashed segment really holds: its last complete fragment.
                var playable = new TimeSpan?[spanned.Length];
                for (var i = 0; i < spanned.Length - 1; i++)
                {
                    playable[i] = await PlayableDurationAsync(ffmpegPath, spanned[i].File, cancellationToken).ConfigureAwait(false);
                }

                gaps = CrashGaps(spanned, playable, start);
                var parts = spanned.Select((s, i) => Part(s, playable[i], start, end, frame)).ToList();
                await CutAcrossAsync(ffmpegPath, parts, path, options, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A stopped or failed ffmpeg may have left the clip half written; a clip is whole or absent.
            File.Delete(path);
            if (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException($"Cutting clip '{Path.GetFileName(path)}' was cancelled.", ex, cancellationToken);
            }

            throw new RecordingException($"Cutting clip '{Path.GetFileName(path)}' failed: {ex.Message}", ex);
        }
        finally
        {
            Slots.Release();
        }

        return new CutClip(path, start, end, gaps);
    }

    /// <summary>Reads the frame rate and the number of audio tracks of a session file.</summary>
    /// <param name="ffmpegPath">The ffmpeg executable (ffprobe is looked up next to it).</param>
    /// <param name="file">The session (segment) file.</param>
    /// <param name="cancellationToken">Cancels probing.</param>
    /// <returns>The frame rate (rounded) and the audio track count, or null when ffprobe cannot tell.</returns>
    public static async Task<(int FrameRate, int AudioTracks)?> ProbeLayoutAsync(string ffmpegPath, string file, CancellationToken cancellationToken)
    {
        try
        {
            var analysis = await FFProbe.AnalyseAsync(file, Options(ffmpegPath), cancellationToken: cancellationToken).ConfigureAwait(false);
            return ((int)Math.Round(analysis.PrimaryVideoStream?.RealFrameRate ?? 0), analysis.AudioStreams.Count);
        }
        catch (Exception ex) when (IsProbeFailure(ex))
        {
            return null;
        }
    }

    /// <summary>Cuts <c>[start, start + duration)</c> of <paramref name="source"/> into <paramref name="destination"/>.</summary>
    /// <param name="ffmpegPath">The ffmpeg executable.</param>
    /// <param name="source">The session (segment) file.</param>
    /// <param name="destination">The clip file.</param>
    /// <param name="start">Start within <paramref name="source"/>.</param>
    /// <param name="duration">The clip's length.</param>
    /// <param name="options">Codec settings.</param>
    /// <param name="cancellationToken">Cancels cutting (ffmpeg is stopped).</param>
    /// <returns>A task that completes when the clip is written.</returns>
    private static async Task CutAsync(string ffmpegPath, string source, string destination, TimeSpan start, TimeSpan duration, RecordingOptions options, CancellationToken cancellationToken)
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
    private static async Task CutAcrossAsync(string ffmpegPath, List<ClipPart> parts, string destination, RecordingOptions options, CancellationToken cancellationToken)
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
                var mute = parts[i].Lost ? ",volume=0" : string.Empty;
                graph.Append(CultureInfo.InvariantCulture, $"[{i}:a:{a}]atrim=start_sample={aacDelaySamples},asetpts=PTS-STARTPTS{mute},apad=whole_len={samples},atrim=end_sample={samples}[a{i}_{a}];");
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
        catch (Exception ex) when (IsProbeFailure(ex))
        {
            return null;
        }
    }

    private static bool IsProbeFailure(Exception ex) =>
        ex is FFMpegCore.Exceptions.FFMpegException or System.ComponentModel.Win32Exception or IOException or FormatException or InvalidOperationException or System.Text.Json.JsonException;

    /// <summary>
    /// The media each crashed segment of a clip lost: from where its file really ends (its last complete
    /// fragment) to where the next segment starts. The clip holds the last picture and is silent there.
    /// </summary>
    private static List<SidecarGap> CrashGaps(SegmentSpan[] spanned, TimeSpan?[] playable, TimeSpan clipStart)
    {
        List<SidecarGap> gaps = [];
        for (var i = 0; i < spanned.Length - 1; i++)
        {
            var segment = spanned[i];

            // When ffprobe cannot tell, report the usual loss: the fragment being written.
            var lostFrom = playable[i] is { } p ? segment.Start + p : segment.End - Encoding.EncoderSettings.MaxFragment;
            lostFrom = lostFrom < clipStart ? clipStart : lostFrom;
            if (lostFrom < segment.End)
            {
                gaps.Add(new SidecarGap(lostFrom.TotalSeconds, segment.End.TotalSeconds, "The encoder crashed and was restarted; this media was lost with it (the clip holds the last picture and is silent here)."));
            }
        }

        return gaps;
    }

    /// <summary>The stretch of <paramref name="segment"/> within <c>[from, to)</c>.</summary>
    private static ClipPart Part(SegmentSpan segment, TimeSpan? playable, TimeSpan from, TimeSpan to, TimeSpan frame)
    {
        var partStart = segment.Start > from ? segment.Start : from;
        var partEnd = segment.End < to ? segment.End : to;
        var offset = partStart - segment.Start;

        // Reading from past a file's end yields no frame at all, and ffmpeg's filters then buffer without bound:
        // a stretch wholly in what the crash lost starts from the last pictures the file holds instead.
        var lastPictures = playable - (2 * frame);
        if (lastPictures is { } last && offset > last)
        {
            return new ClipPart(segment.File, last > TimeSpan.Zero ? last : TimeSpan.Zero, partEnd - partStart, Lost: true);
        }

        return new ClipPart(segment.File, offset, partEnd - partStart);
    }

    /// <summary>A new clip file name from the answer's start (as the original named them), never an existing file's.</summary>
    private static string ClipPath(string directory, DateTimeOffset wallStart)
    {
        var stem = "voice_task_" + wallStart.UtcDateTime.ToString("yyyyMMdd_HHmmss_fff", CultureInfo.InvariantCulture);
        var path = Path.Combine(directory, stem + ".mp4");
        for (var i = 2; File.Exists(path); i++)
        {
            path = Path.Combine(directory, $"{stem}_{i.ToString(CultureInfo.InvariantCulture)}.mp4");
        }

        return path;
    }

    private static FFMpegOutputOptions Encode(FFMpegOutputOptions o, RecordingOptions options)
    {
        // One thread: a clip is background work and must not crowd out the live encoders.
        o.WithVideoCodec(options.VideoEncoder).WithCustomArgument("-threads 1");
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
