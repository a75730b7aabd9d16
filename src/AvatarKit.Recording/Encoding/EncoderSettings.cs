namespace AvatarKit.Recording.Encoding;

/// <summary>What one live encoder process is started with; one instance per segment.</summary>
/// <param name="FfmpegPath">The ffmpeg executable.</param>
/// <param name="Options">The recording options.</param>
/// <param name="AudioInputs">The ffmpeg input URLs of the audio pipes (one when mixed, two when separate).</param>
internal sealed record EncoderSettings(string FfmpegPath, RecordingOptions Options, IReadOnlyList<string> AudioInputs)
{
    public const int AudioSampleRate = 48_000;

    /// <summary>The longest fragment of the session file: what a killed process may lose, at most.</summary>
    public static readonly TimeSpan MaxFragment = TimeSpan.FromMilliseconds(500);

    private static string FragmentMicroseconds => (MaxFragment.Ticks / 10).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Builds the live encoder's command line: raw I420 on stdin, PCM16 48 kHz mono on each audio pipe, fragmented MP4 on stdout.</summary>
    /// <returns>The arguments, one per element (no quoting needed).</returns>
    public IReadOnlyList<string> BuildArguments()
    {
        var o = Options;
        var fps = o.FrameRate.ToString(System.Globalization.CultureInfo.InvariantCulture);
        List<string> args =
        [
            "-hide_banner", "-loglevel", "error", "-nostdin",

            // Raw inputs with explicit parameters need no probing; probing would make ffmpeg read
            // ahead on one pipe before it opens the next, while the tick loop writes both in lockstep (a deadlock).
            "-probesize", "32", "-analyzeduration", "0",
            "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", $"{o.Width}x{o.Height}", "-r", fps,

            // Video packets are whole frames (1.4 MB at 720p): keep ffmpeg's queue short; our own queue drops when it is full.
            "-thread_queue_size", "16",
        ];
        if (o.EncoderReadRate is { } rate)
        {
            args.AddRange(["-readrate", rate.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        args.AddRange(["-i", "pipe:0"]);
        foreach (var input in AudioInputs)
        {
            args.AddRange(["-probesize", "32", "-analyzeduration", "0", "-f", "s16le", "-ar", "48000", "-ac", "1", "-thread_queue_size", "512", "-i", input]);
        }

        args.AddRange(["-map", "0:v"]);
        for (var i = 0; i < AudioInputs.Count; i++)
        {
            args.AddRange(["-map", $"{i + 1}:a"]);
        }

        args.AddRange(["-c:v", o.VideoEncoder]);
        if (o.IsX264)
        {
            args.AddRange(["-preset", o.Preset, "-tune", "zerolatency", "-crf", o.Crf.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        // One keyframe per second and no scene-cut keyframes: fixed one-second GOPs (clips cut with -c copy start within a second).
        args.AddRange(["-g", fps, "-keyint_min", fps, "-sc_threshold", "0"]);
        args.AddRange(["-maxrate", $"{o.MaxVideoBitrateKbps}k", "-bufsize", $"{o.MaxVideoBitrateKbps * 2}k", "-pix_fmt", "yuv420p"]);
        args.AddRange(["-c:a", "aac", "-b:a", $"{o.AudioBitrateKbps}k"]);
        if (AudioInputs.Count == 2)
        {
            args.AddRange(["-metadata:s:a:0", "title=avatar", "-metadata:s:a:1", "title=user", "-disposition:a:0", "default", "-disposition:a:1", "0"]);
        }

        // empty_moov + frag_keyframe: the file is playable after every fragment, and needs no seeking, so it can go to a pipe.
        // frag_duration: also end a fragment every half second (mid-GOP), so a killed process loses at most half a
        // second plus what sat in the encoder, not a whole GOP (about 1 KB/s of extra fragment headers).
        // flush_packets: hand every finished piece to the pipe at once instead of holding up to 32 KB in ffmpeg's
        // I/O buffer, so a kill never loses the header or a finished fragment (at 2.5 Mbit/s that is about 0.1 s).
        args.AddRange(["-movflags", "+frag_keyframe+empty_moov+default_base_moof", "-frag_duration", FragmentMicroseconds, "-flush_packets", "1", "-f", "mp4", "pipe:1"]);
        return args;
    }
}
