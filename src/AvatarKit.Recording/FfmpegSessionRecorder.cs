using AvatarKit.Recording.Encoding;
using AvatarKit.Recording.Session;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AvatarKit;

/// <summary>
/// Records sessions with FFmpeg into crash-safe fragmented MP4 (H.264 + AAC): the whole session as
/// <c>session_&lt;id&gt;.mp4</c>, one <c>voice_task_&lt;timestamp&gt;.mp4</c> per avatar answer, and a
/// <c>session_&lt;id&gt;.json</c> sidecar listing clips, their ranges and the transcript. Thread-safe;
/// one instance records any number of sessions concurrently.
/// </summary>
/// <remarks>
/// Needs the <c>ffmpeg</c> executable (Debian/Ubuntu package <c>ffmpeg</c>) on <c>PATH</c> or at
/// <see cref="RecordingOptions.FfmpegPath"/>. Audio and video are placed by their frames' timestamps;
/// a killed process leaves a file that plays up to its last half-second fragment.
/// </remarks>
public sealed class FfmpegSessionRecorder : ISessionRecorder
{
    private readonly RecordingOptions _options;
    private readonly ILogger _logger;
    private readonly Lazy<string> _ffmpegPath;

    /// <summary>Initializes a new <see cref="FfmpegSessionRecorder"/>.</summary>
    /// <param name="options">Recording settings; the output directory defaults to <c>outputs</c>.</param>
    /// <param name="logger">Where to log; nothing is logged when null.</param>
    public FfmpegSessionRecorder(RecordingOptions options, ILogger<FfmpegSessionRecorder>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Clone();
        _options.OutputDirectory ??= "outputs";
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _ffmpegPath = new Lazy<string>(() => FfmpegLocator.Resolve(_options.FfmpegPath), LazyThreadSafetyMode.PublicationOnly);
    }

    /// <summary>Gets or sets the clock (tests substitute it).</summary>
    internal TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <inheritdoc />
    /// <exception cref="RecordingException">The options are invalid, FFmpeg is missing, or the output directory is not writable.</exception>
    public Task<ISessionRecording> StartAsync(SessionRecordingRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.SessionId, nameof(request));
        cancellationToken.ThrowIfCancellationRequested();
        var problems = _options.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new RecordingException("Invalid recording options: " + string.Join(" ", problems));
        }

        var ffmpeg = _ffmpegPath.Value;
        try
        {
            Directory.CreateDirectory(_options.OutputDirectory!);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new RecordingException($"The output directory '{_options.OutputDirectory}' cannot be created: {ex.Message} Set RecordingOptions.OutputDirectory (or OUTPUT_DIR) to a writable directory.", ex);
        }

        return Task.FromResult<ISessionRecording>(FfmpegSessionRecording.Start(_options, ffmpeg, request, _logger, TimeProvider));
    }
}
