using LiveKit.Proto;

namespace AvatarKit.LiveKit;

/// <summary>Whether an RTP stream is received or sent.</summary>
public enum LiveKitRtpDirection
{
    /// <summary>Received from the server (a remote participant's track).</summary>
    Inbound,

    /// <summary>Sent to the server (a local track).</summary>
    Outbound,
}

/// <summary>The quality LiveKit's server reports for a participant's connection.</summary>
public enum LiveKitConnectionQuality
{
    /// <summary>Poor: high loss or jitter.</summary>
    Poor,

    /// <summary>Good.</summary>
    Good,

    /// <summary>Excellent.</summary>
    Excellent,

    /// <summary>No media reached the server for a while.</summary>
    Lost,
}

/// <summary>WebRTC statistics of one RTP stream of a track, cumulative since the stream started.</summary>
/// <remarks>Counters only grow; sample twice and subtract for rates. Fields that do not apply to the direction or the kind are zero.</remarks>
public sealed record LiveKitRtpStats
{
    /// <summary>Gets whether the stream is received or sent.</summary>
    public required LiveKitRtpDirection Direction { get; init; }

    /// <summary>Gets the media kind.</summary>
    public required RoomTrackKind Kind { get; init; }

    /// <summary>Gets the RTP synchronization source.</summary>
    public uint Ssrc { get; init; }

    /// <summary>Gets the codec's MIME type (e.g. <c>video/VP8</c>), when known.</summary>
    public string? MimeType { get; init; }

    /// <summary>Gets the payload bytes received or sent.</summary>
    public ulong Bytes { get; init; }

    /// <summary>Gets the packets received or sent.</summary>
    public ulong Packets { get; init; }

    /// <summary>Gets the packets lost on the way (inbound; may briefly be negative with duplicates, as WebRTC defines it).</summary>
    public long PacketsLost { get; init; }

    /// <summary>Gets the inter-arrival jitter (inbound).</summary>
    public TimeSpan Jitter { get; init; }

    /// <summary>Gets the video frames decoded (inbound) or encoded (outbound).</summary>
    public uint Frames { get; init; }

    /// <summary>Gets the current video frame width in pixels.</summary>
    public uint FrameWidth { get; init; }

    /// <summary>Gets the current video frame height in pixels.</summary>
    public uint FrameHeight { get; init; }

    /// <summary>Gets the current video frame rate.</summary>
    public double FramesPerSecond { get; init; }

    /// <summary>Gets the audio samples received (inbound audio).</summary>
    public ulong AudioSamples { get; init; }

    /// <summary>Keeps the RTP streams of a WebRTC stats report, with their codec's MIME type.</summary>
    /// <param name="report">The report.</param>
    /// <returns>One entry per inbound or outbound RTP stream.</returns>
    internal static IReadOnlyList<LiveKitRtpStats> FromReport(IEnumerable<RtcStats> report)
    {
        var all = report.ToList();
        var codecs = all.Where(s => s.StatsCase == RtcStats.StatsOneofCase.Codec)
            .ToDictionary(s => s.Codec.Rtc.Id, s => s.Codec.Codec_.MimeType, StringComparer.Ordinal);
        var result = new List<LiveKitRtpStats>();
        foreach (var stats in all)
        {
            if (stats.StatsCase == RtcStats.StatsOneofCase.InboundRtp)
            {
                var s = stats.InboundRtp;
                result.Add(new LiveKitRtpStats
                {
                    Direction = LiveKitRtpDirection.Inbound,
                    Kind = ToKind(s.Stream.Kind),
                    Ssrc = s.Stream.Ssrc,
                    MimeType = codecs.GetValueOrDefault(s.Stream.CodecId),
                    Bytes = s.Inbound.BytesReceived,
                    Packets = s.Received.PacketsReceived,
                    PacketsLost = s.Received.PacketsLost,
                    Jitter = TimeSpan.FromSeconds(s.Received.Jitter),
                    Frames = s.Inbound.FramesDecoded,
                    FrameWidth = s.Inbound.FrameWidth,
                    FrameHeight = s.Inbound.FrameHeight,
                    FramesPerSecond = s.Inbound.FramesPerSecond,
                    AudioSamples = s.Inbound.TotalSamplesReceived,
                });
            }
            else if (stats.StatsCase == RtcStats.StatsOneofCase.OutboundRtp)
            {
                var s = stats.OutboundRtp;
                result.Add(new LiveKitRtpStats
                {
                    Direction = LiveKitRtpDirection.Outbound,
                    Kind = ToKind(s.Stream.Kind),
                    Ssrc = s.Stream.Ssrc,
                    MimeType = codecs.GetValueOrDefault(s.Stream.CodecId),
                    Bytes = s.Sent.BytesSent,
                    Packets = s.Sent.PacketsSent,
                    Frames = s.Outbound.FramesEncoded,
                    FrameWidth = s.Outbound.FrameWidth,
                    FrameHeight = s.Outbound.FrameHeight,
                    FramesPerSecond = s.Outbound.FramesPerSecond,
                });
            }
        }

        return result;
    }

    private static RoomTrackKind ToKind(string kind) =>
        string.Equals(kind, "video", StringComparison.Ordinal) ? RoomTrackKind.Video : RoomTrackKind.Audio;
}

/// <summary>Arguments of <see cref="LiveKitRoom.ConnectionQualityChanged"/>.</summary>
/// <param name="participantIdentity">Whose connection (the local identity for this client's own).</param>
/// <param name="quality">The quality the server reported.</param>
public sealed class LiveKitConnectionQualityEventArgs(string participantIdentity, LiveKitConnectionQuality quality) : EventArgs
{
    /// <summary>Gets whose connection the report is about.</summary>
    public string ParticipantIdentity { get; } = participantIdentity;

    /// <summary>Gets the reported quality.</summary>
    public LiveKitConnectionQuality Quality { get; } = quality;
}
