namespace AvatarKit;

/// <summary>One room of an <see cref="InProcessRoomServer"/>: the members and their published tracks.</summary>
internal sealed class InProcessRoom(string name)
{
    private readonly Lock _gate = new();
    private readonly List<InProcessRoomConnection> _members = [];
    private int _nextTrack;

    public string Name { get; } = name;

    public bool IsEmpty
    {
        get
        {
            lock (_gate)
            {
                return _members.Count == 0;
            }
        }
    }

    public InProcessRoomConnection Join(string identity)
    {
        InProcessRoomConnection connection;
        InProcessRoomConnection[] others;
        lock (_gate)
        {
            if (_members.Any(m => m.LocalIdentity == identity))
            {
                throw new RoomConnectionException($"'{identity}' is already in room '{Name}'; identities must be unique.");
            }

            others = [.. _members];
            connection = new InProcessRoomConnection(this, identity);
            _members.Add(connection);
        }

        var joined = connection.Snapshot();
        foreach (var other in others)
        {
            other.OnParticipantJoined(joined);
        }

        return connection;
    }

    public bool Remove(string identity, string reason)
    {
        InProcessRoomConnection? member;
        lock (_gate)
        {
            member = _members.FirstOrDefault(m => m.LocalIdentity == identity);
        }

        if (member is null)
        {
            return false;
        }

        member.CloseFromServer(reason);
        return true;
    }

    public void Leave(InProcessRoomConnection connection, RoomParticipant left)
    {
        InProcessRoomConnection[] others;
        lock (_gate)
        {
            if (!_members.Remove(connection))
            {
                return;
            }

            others = [.. _members];
        }

        foreach (var other in others)
        {
            foreach (var track in left.Tracks)
            {
                other.OnTrackUnpublished(track);
            }

            other.OnParticipantLeft(left);
        }
    }

    public string NextTrackSid() => $"TR_{Interlocked.Increment(ref _nextTrack):D4}";

    public InProcessRoomConnection[] Others(InProcessRoomConnection self)
    {
        lock (_gate)
        {
            return [.. _members.Where(m => m != self)];
        }
    }

    public InProcessLocalTrack? FindTrack(string sid)
    {
        lock (_gate)
        {
            foreach (var member in _members)
            {
                if (member.FindLocalTrack(sid) is { } track)
                {
                    return track;
                }
            }
        }

        return null;
    }
}
