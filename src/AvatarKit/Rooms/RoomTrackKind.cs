namespace AvatarKit;

/// <summary>The kind of media a room track carries.</summary>
public enum RoomTrackKind
{
    /// <summary>Audio.</summary>
    Audio,

    /// <summary>Video.</summary>
    Video,
}
