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
internal sealed record SessionSidecar(
    string SessionId,
    DateTimeOffset StartedAt,
    double DurationSeconds,
    long DroppedVideoFrames,
    IReadOnlyList<SidecarSegment> Segments,
    IReadOnlyList<SidecarClip> Clips,
    IReadOnlyList<SidecarLine> Transcript,
    string? Error)
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
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<SidecarGap>? Gaps = null);

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
