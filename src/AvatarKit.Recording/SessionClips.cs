using AvatarKit.Recording.Clips;
using AvatarKit.Recording.Encoding;

namespace AvatarKit;

/// <summary>
/// Finishes the per-answer clips a recording left uncut. When completing a recording is cancelled before every
/// clip is cut (for example when <see cref="AvatarPipelineOptions.RecordingFinalizeTimeout"/> runs out behind a
/// backlog of clips), its sidecar (<c>session_&lt;id&gt;.json</c>) lists those answers under <c>uncutClips</c>;
/// <see cref="CutPendingAsync"/> cuts them from the session files the sidecar lists, as the recorder would have.
/// </summary>
public static class SessionClips
{
    /// <summary>
    /// Cuts the clips <paramref name="sidecarPath"/> lists as uncut, next to it (<c>voice_task_&lt;time&gt;.mp4</c>),
    /// from one session file or across the segments of an encoder restart. After each clip the sidecar is rewritten
    /// atomically with that clip moved from <c>uncutClips</c> to <c>clips</c>, so a cancelled or failed run leaves it
    /// consistent and a later run cuts the rest; when nothing is listed as uncut, nothing is done.
    /// </summary>
    /// <param name="sidecarPath">The session's JSON sidecar.</param>
    /// <param name="options">
    /// Codec settings and the ffmpeg executable (<see cref="RecordingOptions.FfmpegPath"/>); the defaults when null.
    /// The frame rate and audio layout are read from the session file.
    /// </param>
    /// <param name="progress">Told of each clip once it is written and listed in the sidecar; may be null.</param>
    /// <param name="cancellationToken">Stops cutting: the running ffmpeg is stopped, its partial clip deleted, and the clips not cut stay listed.</param>
    /// <returns>The clips written, in order; empty when there was nothing to cut.</returns>
    /// <exception cref="FileNotFoundException">The sidecar, or a session file a pending clip needs, does not exist (the sidecar is left unchanged).</exception>
    /// <exception cref="InvalidDataException">The file is not a session sidecar.</exception>
    /// <exception cref="RecordingException">FFmpeg is missing, the options are invalid, or ffmpeg failed on a clip (the clips cut before it stay listed).</exception>
    /// <exception cref="OperationCanceledException">Cutting was cancelled.</exception>
    public static async Task<IReadOnlyList<RecordedClip>> CutPendingAsync(
        string sidecarPath,
        RecordingOptions? options = null,
        IProgress<RecordedClip>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sidecarPath);
        var path = Path.GetFullPath(sidecarPath);
        var directory = Path.GetDirectoryName(path)!;
        var sidecar = await SessionSidecar.ReadAsync(path, cancellationToken).ConfigureAwait(false);
        if (sidecar.UncutClips is not { Count: > 0 } pending)
        {
            return [];
        }

        var settings = (options ?? new RecordingOptions()).Clone();
        settings.OutputDirectory = directory;
        var problems = settings.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new RecordingException("Invalid recording options: " + string.Join(" ", problems));
        }

        SegmentSpan[] segments = [.. sidecar.Segments.Select(s => new SegmentSpan(Path.Combine(directory, s.File), TimeSpan.FromSeconds(s.StartSeconds), TimeSpan.FromSeconds(s.EndSeconds)))];

        // Everything the pending clips need must be there before anything is cut, so that a missing file leaves the sidecar as it was.
        var needed = segments.Where(s => pending.Any(c => s.Start.TotalSeconds < c.EndSeconds && s.End.TotalSeconds > c.StartSeconds)).ToList();
        if (needed.FirstOrDefault(s => !File.Exists(s.File)) is { } missing)
        {
            throw new FileNotFoundException(
                $"The session file '{Path.GetFileName(missing.File)}' that '{Path.GetFileName(path)}' lists is missing from '{directory}'; the uncut clips need it.",
                missing.File);
        }

        var ffmpeg = FfmpegLocator.Resolve(settings.FfmpegPath);

        // The last file ends where its encoder stopped; if it was killed (completion cancelled early), that is before the
        // end the sidecar gives it. Nothing follows it, so clips are held to what it really holds.
        if (needed.Count > 0 && needed[^1] == segments[^1]
            && await ClipCutter.PlayableDurationAsync(ffmpeg, segments[^1].File, cancellationToken).ConfigureAwait(false) is { } playable
            && segments[^1].Start + playable < segments[^1].End)
        {
            segments[^1] = segments[^1] with { End = segments[^1].Start + playable };
        }

        // Cutting across segments rebuilds timestamps on the recording's frame grid and per audio track: take both from the file.
        if (needed.Count > 1 && await ClipCutter.ProbeLayoutAsync(ffmpeg, needed[0].File, cancellationToken).ConfigureAwait(false) is { } layout)
        {
            settings.FrameRate = layout.FrameRate is >= 1 and <= 60 && 48_000 % layout.FrameRate == 0 ? layout.FrameRate : settings.FrameRate;
            settings.AudioLayout = layout.AudioTracks >= 2 ? RecordingAudioLayout.SeparateTracks : RecordingAudioLayout.Mixed;
        }

        List<RecordedClip> written = [];
        List<SidecarClip> clips = [.. sidecar.Clips];
        List<SidecarUncutClip> left = [.. pending];
        foreach (var uncut in pending)
        {
            var wallStart = uncut.StartedAt ?? sidecar.StartedAt + TimeSpan.FromSeconds(uncut.StartSeconds);
            var cut = await ClipCutter.CutRangeAsync(
                ffmpeg, segments, TimeSpan.FromSeconds(uncut.StartSeconds), TimeSpan.FromSeconds(uncut.EndSeconds), directory, wallStart, settings, cancellationToken).ConfigureAwait(false);

            // A range the session files do not hold is dropped, as the recorder drops it.
            left.Remove(uncut);
            if (cut is not null)
            {
                clips.Add(SidecarClip.From(cut, uncut.Text, sidecar.Transcript));
            }

            sidecar = sidecar with { Clips = [.. clips], UncutClips = left.Count > 0 ? [.. left] : null };

            // Not cancellable: the clip is on disk and must be listed.
            await sidecar.WriteAsync(path, CancellationToken.None).ConfigureAwait(false);
            if (cut is not null)
            {
                var clip = cut.ToRecordedClip(uncut.Text);
                written.Add(clip);
                progress?.Report(clip);
            }
        }

        return written;
    }
}
