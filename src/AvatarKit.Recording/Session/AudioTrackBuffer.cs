namespace AvatarKit.Recording.Session;

/// <summary>
/// The received, not yet written audio of one source, placed on the 48 kHz sample grid of media
/// time. Gaps read as silence; samples before the write position are dropped. Used by the tick
/// loop only (not thread-safe).
/// </summary>
internal sealed class AudioTrackBuffer : IDisposable
{
    /// <summary>Frames that start within this many samples (10 ms) of where the previous one ended are joined seamlessly.</summary>
    private const int SnapSamples = 480;
    private readonly Queue<Pending> _frames = new();
    private long? _expectedNext;

    /// <summary>Gets how many samples were dropped because they arrived after their time was written.</summary>
    public long LateSamples { get; private set; }

    /// <summary>Takes ownership of a 48 kHz mono frame that starts at sample <paramref name="start"/> of media time.</summary>
    /// <param name="frame">The frame.</param>
    /// <param name="start">Its first sample's index in media time.</param>
    public void Add(AudioFrame frame, long start)
    {
        // Timestamps of consecutive frames carry rounding jitter; joining them avoids clicks and drift.
        if (_expectedNext is { } expected && Math.Abs(start - expected) <= SnapSamples)
        {
            start = expected;
        }

        _frames.Enqueue(new Pending(frame, start));
        _expectedNext = start + frame.SampleCount;
    }

    /// <summary>Adds this source's samples for <c>[destinationStart, destinationStart + destination.Length)</c> into <paramref name="destination"/>, saturating, and forgets them.</summary>
    /// <param name="destination">The samples to add to.</param>
    /// <param name="destinationStart">The media sample index of <paramref name="destination"/>'s first sample.</param>
    public void MixInto(Span<short> destination, long destinationStart)
    {
        var end = destinationStart + destination.Length;
        while (_frames.TryPeek(out var item))
        {
            var frameEnd = item.Start + item.Frame.SampleCount;
            var start = item.Start + item.Used;
            if (start < destinationStart)
            {
                LateSamples += Math.Min(frameEnd, destinationStart) - start;
                start = destinationStart;
            }

            if (start >= frameEnd)
            {
                _frames.Dequeue().Frame.Dispose();
                continue;
            }

            if (start >= end)
            {
                break;
            }

            var to = Math.Min(frameEnd, end);
            ReadOnlySpan<short> source = item.Frame.Samples.Slice((int)(start - item.Start), (int)(to - start));
            var target = destination.Slice((int)(start - destinationStart), (int)(to - start));
            for (var i = 0; i < source.Length; i++)
            {
                target[i] = (short)Math.Clamp(target[i] + source[i], short.MinValue, short.MaxValue);
            }

            item.Used = (int)(to - item.Start);
            if (to < frameEnd)
            {
                break;
            }

            _frames.Dequeue().Frame.Dispose();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        while (_frames.Count > 0)
        {
            _frames.Dequeue().Frame.Dispose();
        }
    }

    private sealed class Pending(AudioFrame frame, long start)
    {
        public AudioFrame Frame { get; } = frame;

        public long Start { get; } = start;

        public int Used { get; set; }
    }
}
