using System.Text.Json;
using System.Text.Json.Serialization;

namespace AvatarKit.Recording.Clips;

/// <summary>The JSON file written next to <c>session_&lt;id&gt;.mp4</c>: segments, clips with their ranges, and the transcript.</summary>
/// <param name="SessionId">The session id.</param>
/// <param name="StartedAt">When recording started (UTC).</param>
/// <param name="DurationSeconds">Media time recorded.</param>
/// <param name="DroppedVideoFrames">Video frames dropped because the encoder fell behind.</param>
/// <param name="Segments">The session files (more than one after an encoder restart).</param>
/// <param name="Clips">The per-answer clips.</param>
/// <param name="Transcript">Every transcript line.</param>
/// <param name="Error">Why recording stopped early, if it did.</param>
/// <param name="UncutClips">Answers whose clips were not cut because completion was cancelled; <see cref="SessionClips.CutPendingAsync"/> cuts them later. Omitted when none.</param>
internal sealed record SessionSidecar(
    string SessionId,
    DateTimeOffset StartedAt,
    double DurationSeconds,
    long DroppedVideoFrames,
    IReadOnlyList<SidecarSegment> Segments,
    IReadOnlyList<SidecarClip> Clips,
    IReadOnlyList<SidecarLine> Transcript,
    string? Error,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<SidecarUncutClip>? UncutClips = null)
{
    /// <summary>Writes the sidecar atomically (temporary file, then rename), so a crash never leaves half a JSON file.</summary>
    /// <param name="path">The sidecar path.</param>
    /// <param name="cancellationToken">Cancels writing.</param>
    /// <returns>A task that completes when written.</returns>
    public async Task WriteAsync(string path, CancellationToken cancellationToken)
    {
        var temporary = path + ".tmp";
        var stream = File.Create(temporary);
        await using (stream.ConfigureAwait(false))
        {
            await JsonSerializer.SerializeAsync(stream, this, SidecarJsonContext.Default.SessionSidecar, cancellationToken).ConfigureAwait(false);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads a sidecar.</summary>
    /// <param name="path">The sidecar path.</param>
    /// <param name="cancellationToken">Cancels reading.</param>
    /// <returns>The sidecar.</returns>
    /// <exception cref="FileNotFoundException">There is no such file.</exception>
    /// <exception cref="InvalidDataException">The file is not a session sidecar.</exception>
    public static async Task<SessionSidecar> ReadAsync(string path, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The session sidecar '{path}' does not exist.", path);
        }

        SessionSidecar? sidecar;
        var stream = File.OpenRead(path);
        await using (stream.ConfigureAwait(false))
        {
            try
            {
                sidecar = await JsonSerializer.DeserializeAsync(stream, SidecarJsonContext.Default.SessionSidecar, cancellationToken).ConfigureAwait(false);
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"'{path}' is not a session sidecar (session_<id>.json): {ex.Message}", ex);
            }
        }

        // The JSON reader does not enforce the non-null members; a sidecar without them was not written by the recorder.
        var missing = sidecar is null ? "everything"
            : string.IsNullOrEmpty(sidecar.SessionId) ? "sessionId"
            : sidecar.Segments is null || sidecar.Segments.Any(s => s is null || string.IsNullOrWhiteSpace(s.File)) ? "segments"
            : sidecar.Clips is null ? "clips"
            : sidecar.Transcript is null ? "transcript"
            : sidecar.UncutClips?.Any(c => c is null) == true ? "uncutClips"
            : null;
        return missing is null ? sidecar! : throw new InvalidDataException($"'{path}' is not a session sidecar (session_<id>.json): {missing} is missing.");
    }
}

/// <summary>One session file.</summary>
/// <param name="File">The file name (relative to the sidecar).</param>
/// <param name="StartSeconds">Where it starts in media time.</param>
/// <param name="EndSeconds">Where it ends in media time.</param>
internal sealed record SidecarSegment(string File, double StartSeconds, double EndSeconds);

/// <summary>One clip.</summary>
/// <param name="File">The file name (relative to the sidecar).</param>
/// <param name="StartSeconds">Start in session media time (pre-roll included).</param>
/// <param name="EndSeconds">End in session media time (post-roll included).</param>
/// <param name="Text">What the avatar said, when known.</param>
/// <param name="Transcript">The transcript lines of the turn.</param>
/// <param name="Gaps">Stretches of the range the session files do not hold (an encoder crash during the answer); omitted when none.</param>
internal sealed record SidecarClip(
    string File,
    double StartSeconds,
    double EndSeconds,
    string? Text,
    IReadOnlyList<SidecarLine> Transcript,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<SidecarGap>? Gaps = null)
{
    /// <summary>Describes a clip that was cut, with the transcript lines added during its range.</summary>
    /// <param name="clip">The clip.</param>
    /// <param name="text">What the avatar said, when known.</param>
    /// <param name="transcript">The session's transcript.</param>
    /// <returns>The sidecar entry.</returns>
    public static SidecarClip From(CutClip clip, string? text, IEnumerable<SidecarLine> transcript) => new(
        Path.GetFileName(clip.FilePath),
        clip.Start.TotalSeconds,
        clip.End.TotalSeconds,
        text,
        [.. transcript.Where(l => l.AtSeconds >= clip.Start.TotalSeconds && l.AtSeconds <= clip.End.TotalSeconds)],
        clip.Gaps);
}

/// <summary>An answer whose clip was not cut.</summary>
/// <param name="StartSeconds">Start in session media time (pre-roll included).</param>
/// <param name="EndSeconds">End in session media time (post-roll included).</param>
/// <param name="Text">What the avatar said, when known.</param>
/// <param name="StartedAt">When the answer started (UTC); names the clip file. Omitted by older sidecars.</param>
internal sealed record SidecarUncutClip(
    double StartSeconds,
    double EndSeconds,
    string? Text,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTimeOffset? StartedAt = null);

/// <summary>A stretch of session media time that was lost; the clip covers it with the last picture and silence.</summary>
/// <param name="StartSeconds">Start in session media time.</param>
/// <param name="EndSeconds">End in session media time.</param>
/// <param name="Reason">Why it is missing.</param>
internal sealed record SidecarGap(double StartSeconds, double EndSeconds, string Reason);

/// <summary>One transcript line.</summary>
/// <param name="AtSeconds">Media time when it was added.</param>
/// <param name="Speaker">Who spoke.</param>
/// <param name="Text">What was said.</param>
internal sealed record SidecarLine(double AtSeconds, string Speaker, string Text);

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SessionSidecar))]
internal sealed partial class SidecarJsonContext : JsonSerializerContext;
