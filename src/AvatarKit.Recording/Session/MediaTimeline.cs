namespace AvatarKit.Recording.Session;

/// <summary>
/// Maps every source's frame timestamps onto the session's media time and says how far the
/// session may be written. Thread-safe.
/// </summary>
/// <remarks>
/// <para>Sources that share a clock (the avatar's video and audio) share one <see cref="Clock"/>: the
/// first frame of any of them fixes one offset, and from then on positions come from the frames'
/// own timestamps, never from when they arrived, so audio and video stay in sync by construction.</para>
/// <para>Media time 0 is the first frame of any source. The live edge is the furthest frame end seen,
/// or the wall time since media time 0 when that is later, so an idle room still moves the
/// recording forward (repeating the last picture, writing silence) without waiting for frames.
/// Input faster than real time is written as fast as the encoder takes it.</para>
/// <para>A frame that would land more than <c>lateTolerance</c> before what is already written
/// (its source paused and resumed with old timestamps, or its clock runs slow) re-anchors its clock
/// at the written position; sources sharing the clock move together, so sync holds.</para>
/// </remarks>
internal sealed class MediaTimeline(TimeProvider time, TimeSpan jitterBuffer, TimeSpan lateTolerance)
{
    private readonly Lock _gate = new();
    private long? _originTimestamp;
    private TimeSpan _maxEnd;
    private long _writtenTicks;

    /// <summary>Gets or sets what the encoder has been given so far, in media time.</summary>
    public TimeSpan Written
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _writtenTicks));
        set => Interlocked.Exchange(ref _writtenTicks, value.Ticks);
    }

    /// <summary>Gets the media time of "now": the newest frame end, or the wall clock since media time 0 when later.</summary>
    public TimeSpan LiveEdge
    {
        get
        {
            lock (_gate)
            {
                return LiveEdgeLocked();
            }
        }
    }

    /// <summary>Gets the media time up to which the session may be written now.</summary>
    /// <param name="draining">True when the recording is completing: everything received is written, no waiting for late frames.</param>
    /// <returns>The watermark.</returns>
    public TimeSpan Watermark(bool draining)
    {
        lock (_gate)
        {
            return draining ? _maxEnd : LiveEdgeLocked() - jitterBuffer;
        }
    }

    /// <summary>Places a frame of <paramref name="clock"/> in media time.</summary>
    /// <param name="clock">The clock the frame's source shares.</param>
    /// <param name="timestamp">The frame's own timestamp.</param>
    /// <param name="duration">How long the frame lasts.</param>
    /// <returns>The frame's position in media time, and how far its clock was shifted (zero unless re-anchored).</returns>
    public (TimeSpan Position, TimeSpan Shift) Place(Clock clock, TimeSpan timestamp, TimeSpan duration)
    {
        lock (_gate)
        {
            _originTimestamp ??= time.GetTimestamp();
            var shift = TimeSpan.Zero;
            if (clock.Offset is not { } offset)
            {
                offset = LiveEdgeLocked() - timestamp;
                clock.Offset = offset;
            }

            var position = timestamp + offset;
            var written = Written;
            if (position + duration < written - lateTolerance || position < TimeSpan.Zero)
            {
                shift = written - position;
                clock.Offset = offset + shift;
                position = written;
            }

            if (position + duration > _maxEnd)
            {
                _maxEnd = position + duration;
            }

            return (position, shift);
        }
    }

    private TimeSpan LiveEdgeLocked()
    {
        var wall = _originTimestamp is { } origin ? time.GetElapsedTime(origin) : TimeSpan.Zero;
        return wall > _maxEnd ? wall : _maxEnd;
    }

    /// <summary>The offset of sources that share a clock.</summary>
    internal sealed class Clock(string name)
    {
        /// <summary>Gets the clock's name, for logs.</summary>
        public string Name { get; } = name;

        /// <summary>Gets or sets media time minus the sources' timestamps, once known.</summary>
        public TimeSpan? Offset { get; set; }
    }
}
