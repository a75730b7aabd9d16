using System.Text.RegularExpressions;

namespace AvatarKit;

/// <summary>How the user's microphone and the avatar's voice are stored in the session file.</summary>
public enum RecordingAudioLayout
{
    /// <summary>One AAC track with both voices mixed (what every player plays). The default.</summary>
    Mixed,

    /// <summary>Two AAC tracks: the avatar (default track) and the user's microphone (second, non-default track).</summary>
    SeparateTracks,
}

/// <summary>
/// Settings of <see cref="FfmpegSessionRecorder"/>. Bound from <c>AvatarKit:Recording</c>; the output
/// directory falls back to <see cref="AvatarKitOptions.OutputDirectory"/> (<c>OUTPUT_DIR</c>, default <c>outputs</c>).
/// </summary>
/// <remarks>
/// The defaults follow the measurements in the media spec: libx264 <c>veryfast</c> with CRF 23 capped at
/// 2.5 Mbit/s costs 13–19 % of one core for 720p25 live and bounds the file size on noisy video;
/// one keyframe per second and half-second fragments, so a crash loses at most about half a second.
/// </remarks>
public sealed partial class RecordingOptions
{
    private static readonly string[] X264Presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"];

    /// <summary>Gets or sets the directory session files, clips and sidecars are written to.</summary>
    public string? OutputDirectory { get; set; }

    /// <summary>Gets or sets the ffmpeg executable (a path or a name on <c>PATH</c>); <c>ffmpeg</c> on <c>PATH</c> when null.</summary>
    public string? FfmpegPath { get; set; }

    /// <summary>Gets or sets the FFmpeg H.264 encoder; <c>libx264</c> by default.</summary>
    public string VideoEncoder { get; set; } = "libx264";

    /// <summary>Gets or sets the libx264 speed preset; <c>veryfast</c> by default (<c>ultrafast</c> when CPU is tight, bigger files).</summary>
    public string Preset { get; set; } = "veryfast";

    /// <summary>Gets or sets the libx264 constant rate factor (0–51, lower is better); 23 by default.</summary>
    public int Crf { get; set; } = 23;

    /// <summary>Gets or sets the video bitrate cap in kbit/s; 2500 by default (about 1 GB per hour in total).</summary>
    public int MaxVideoBitrateKbps { get; set; } = 2500;

    /// <summary>Gets or sets the AAC bitrate per audio track in kbit/s; 96 by default.</summary>
    public int AudioBitrateKbps { get; set; } = 96;

    /// <summary>Gets or sets the width of the recorded video; frames of another size are scaled. 1280 by default.</summary>
    public int Width { get; set; } = 1280;

    /// <summary>Gets or sets the height of the recorded video; 720 by default.</summary>
    public int Height { get; set; } = 720;

    /// <summary>Gets or sets the constant frame rate of the recording; 25 by default.</summary>
    public int FrameRate { get; set; } = 25;

    /// <summary>Gets or sets whether both voices are mixed into one track or kept as two tracks.</summary>
    public RecordingAudioLayout AudioLayout { get; set; } = RecordingAudioLayout.Mixed;

    /// <summary>Gets or sets whether one clip per avatar answer is cut; true by default.</summary>
    public bool CutClips { get; set; } = true;

    /// <summary>Gets or sets how much of the session before an answer starts each clip keeps; 0.3 s by default.</summary>
    public TimeSpan ClipPreRoll { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Gets or sets how much of the session after an answer ends each clip keeps; 0.5 s by default.</summary>
    public TimeSpan ClipPostRoll { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Gets or sets how many received video frames may wait for the encoder (1.4 MB each at 720p); when the
    /// encoder falls behind, the oldest are dropped and counted. 25 by default: one second of 25 fps, which rides
    /// out an encoder descheduled on a busy machine for up to a second (35 MB at 720p).
    /// </summary>
    public int VideoQueueFrames { get; set; } = 25;

    /// <summary>
    /// Gets or sets how long the recorder waits for late frames before it writes a moment of the
    /// session (repeating the last picture, or silence, where nothing arrived); 150 ms by default.
    /// </summary>
    public TimeSpan JitterBuffer { get; set; } = TimeSpan.FromMilliseconds(150);

    /// <summary>Gets or sets how often a crashed encoder is restarted into a new segment before recording stops; 3 by default.</summary>
    public int MaxEncoderRestarts { get; set; } = 3;

    /// <summary>
    /// Gets or sets how long a stream may deliver nothing before it stops holding the recording back and,
    /// when every stream is quiet, the room counts as idle and is recorded on the wall clock; well above network jitter.
    /// </summary>
    internal TimeSpan IdleAfter { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Gets or sets a test hook that opens the session file's stream (fault injection).</summary>
    internal Func<string, Stream>? OpenOutputStream { get; set; }

    /// <summary>Gets or sets a test hook that makes ffmpeg read video at this fraction of real time (a throttled encoder).</summary>
    internal double? EncoderReadRate { get; set; }

    /// <summary>Returns one message per invalid setting, each naming the setting and the allowed values.</summary>
    /// <returns>The problems; empty when the options are valid.</returns>
    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(OutputDirectory))
        {
            yield return "OutputDirectory is empty; set AvatarKit:Recording:OutputDirectory, AvatarKit:OutputDirectory or OUTPUT_DIR.";
        }
        else if (OutputDirectory.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            yield return $"OutputDirectory '{OutputDirectory}' is not a valid path.";
        }

        if (string.IsNullOrWhiteSpace(VideoEncoder) || !EncoderName().IsMatch(VideoEncoder))
        {
            yield return $"VideoEncoder '{VideoEncoder}' is not an FFmpeg encoder name; use e.g. libx264.";
        }
        else if (IsX264 && !X264Presets.Contains(Preset, StringComparer.Ordinal))
        {
            yield return $"Preset '{Preset}' is not a libx264 preset; use one of {string.Join(", ", X264Presets)}.";
        }

        if (Crf is < 0 or > 51)
        {
            yield return $"Crf is {Crf}; use 0 to 51 (23 is the default).";
        }

        if (MaxVideoBitrateKbps is < 100 or > 50_000)
        {
            yield return $"MaxVideoBitrateKbps is {MaxVideoBitrateKbps}; use 100 to 50000.";
        }

        if (AudioBitrateKbps is < 16 or > 512)
        {
            yield return $"AudioBitrateKbps is {AudioBitrateKbps}; use 16 to 512.";
        }

        if (Width is < 16 or > 7680 || Height is < 16 or > 4320 || Width % 2 != 0 || Height % 2 != 0)
        {
            yield return $"Width x Height is {Width}x{Height}; use even sizes from 16x16 to 7680x4320.";
        }

        if (FrameRate is < 1 or > 60 || 48_000 % FrameRate != 0)
        {
            yield return $"FrameRate is {FrameRate}; use a rate from 1 to 60 that divides 48000 (e.g. 15, 24, 25, 30, 50, 60).";
        }

        if (!Enum.IsDefined(AudioLayout))
        {
            yield return $"AudioLayout '{AudioLayout}' is unknown; use Mixed or SeparateTracks.";
        }

        if (ClipPreRoll < TimeSpan.Zero || ClipPreRoll > TimeSpan.FromSeconds(10) || ClipPostRoll < TimeSpan.Zero || ClipPostRoll > TimeSpan.FromSeconds(10))
        {
            yield return "ClipPreRoll and ClipPostRoll must be between 0 and 10 seconds.";
        }

        if (VideoQueueFrames is < 2 or > 250)
        {
            yield return $"VideoQueueFrames is {VideoQueueFrames}; use 2 to 250.";
        }

        if (JitterBuffer < TimeSpan.Zero || JitterBuffer > TimeSpan.FromSeconds(5))
        {
            yield return "JitterBuffer must be between 0 and 5 seconds.";
        }

        if (MaxEncoderRestarts is < 0 or > 100)
        {
            yield return $"MaxEncoderRestarts is {MaxEncoderRestarts}; use 0 to 100.";
        }
    }

    internal bool IsX264 => string.Equals(VideoEncoder, "libx264", StringComparison.Ordinal);

    internal RecordingOptions Clone() => (RecordingOptions)MemberwiseClone();

    [GeneratedRegex("^[a-z0-9_]+$")]
    private static partial Regex EncoderName();
}
