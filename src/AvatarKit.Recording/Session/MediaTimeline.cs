namespace AvatarKit.Recording.Session;

/// <summary>
/// Maps every source's frame timestamps onto the session's media time and says how far the
/// session may be written. Thread-safe.
/// </summary>
/// <remarks>
/// <para>Sources that share a clock (the avatar's video and audio) share one <see cref="Clock"/>: the
/// first frame of any of them fixes one offset, and from then on positions come from the frames'
/// own timestamps, never from when they arrived, so audio and video stay in sync by construction.
/// Input faster than real time is therefore written as fast as the encoder takes it.</para>
/// <para>Media time 0 is the first frame of any source. The live edge is the furthest frame end
/// seen; when nothing arrives for a while, the tick loop moves it on with the wall clock
/// (<see cref="AdvanceIdle"/>), so an idle room still records (last picture, silence) in real time.</para>
/// <para>Each stream (<see cref="Track"/>) that delivered within <c>idleAfter</c> holds the watermark at
/// its own newest frame end, so one stream's lag (a starved reader) never makes another's media late;
/// a stream that goes quiet stops holding it.</para>
/// <para>A frame that would land more than <c>lateTolerance</c> before what is already written
/// (its source paused and resumed with old timestamps, or its clock runs slow) re-anchors its clock
/// at the written position; sources sharing the clock move together, so sync holds.</para>
/// </remarks>
internal sealed class MediaTimeline(TimeProvider time, TimeSpan jitterBuffer, TimeSpan lateTolerance, TimeSpan idleAfter)
{
    private readonly Lock _gate = new();
    private readonly List<Track> _tracks = [];
    private long? _lastArrival;
    private TimeSpan _maxEnd;
    private TimeSpan _idleEdge;
    private long _writtenTicks;

    /// <summary>Gets or sets what the encoder has been given so far, in media time.</summary>
    public TimeSpan Written
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _writtenTicks));
        set => Interlocked.Exchange(ref _writtenTicks, value.Ticks);
    }

    /// <summary>Gets the media time of "now": the newest frame end, or where idle filling got to when later.</summary>
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

    /// <summary>Gets the wall time since the last frame arrived, or null before the first frame.</summary>
    public TimeSpan? SinceLastArrival
    {
        get
        {
            lock (_gate)
            {
                return _lastArrival is { } last ? time.GetElapsedTime(last) : null;
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
            if (draining)
            {
                return _maxEnd;
            }

            var watermark = LiveEdgeLocked() - jitterBuffer;
            foreach (var track in _tracks)
            {
                if (track.End < watermark && track.LastArrival is { } last && time.GetElapsedTime(last) < idleAfter)
                {
                    watermark = track.End;
                }
            }

            return watermark;
        }
    }

    /// <summary>Moves the live edge to at least <paramref name="edge"/> while no frames arrive (idle room).</summary>
    /// <param name="edge">The new live edge.</param>
    public void AdvanceIdle(TimeSpan edge)
    {
        lock (_gate)
        {
            if (edge > _idleEdge)
            {
                _idleEdge = edge;
            }
        }
    }

    /// <summary>Places a frame of <paramref name="clock"/> in media time.</summary>
    /// <param name="clock">The clock the frame's source shares.</param>
    /// <param name="track">The stream the frame belongs to.</param>
    /// <param name="timestamp">The frame's own timestamp.</param>
    /// <param name="duration">How long the frame lasts.</param>
    /// <returns>The frame's position in media time, and how far its clock was shifted (zero unless re-anchored).</returns>
    public (TimeSpan Position, TimeSpan Shift) Place(Clock clock, Track track, TimeSpan timestamp, TimeSpan duration)
    {
        lock (_gate)
        {
            _lastArrival = time.GetTimestamp();
            if (track.LastArrival is null)
            {
                _tracks.Add(track);
            }

            track.LastArrival = _lastArrival;
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

            track.End = position + duration;
            if (track.End > _maxEnd)
            {
                _maxEnd = track.End;
            }

            return (position, shift);
        }
    }

    private TimeSpan LiveEdgeLocked() => _idleEdge > _maxEnd ? _idleEdge : _maxEnd;

    /// <summary>The offset of sources that share a clock.</summary>
    internal sealed class Clock(string name)
    {
        /// <summary>Gets the clock's name, for logs.</summary>
        public string Name { get; } = name;

        /// <summary>Gets or sets media time minus the sources' timestamps, once known.</summary>
        public TimeSpan? Offset { get; set; }
    }

    /// <summary>The progress of one stream (the avatar's video, its audio, the user's audio).</summary>
    internal sealed class Track
    {
        /// <summary>Gets or sets the end of the stream's newest frame in media time.</summary>
        public TimeSpan End { get; set; }

        /// <summary>Gets or sets when its newest frame arrived (a <see cref="TimeProvider"/> timestamp).</summary>
        public long? LastArrival { get; set; }
    }
}
