namespace AvatarKit;

/// <summary>The life cycle of an <see cref="IAvatarSession"/>.</summary>
public enum AvatarSessionState
{
    /// <summary>The remote session is being created and joined.</summary>
    Starting,

    /// <summary>Started and idle.</summary>
    Ready,

    /// <summary>The avatar is speaking.</summary>
    Speaking,

    /// <summary>The avatar finished speaking and is listening.</summary>
    Listening,

    /// <summary>The remote session is being stopped.</summary>
    Closing,

    /// <summary>Stopped; no further calls are accepted.</summary>
    Closed,
}
