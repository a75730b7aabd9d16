namespace AvatarKit;

/// <summary>A local video track published into a room.</summary>
public interface ILocalVideoTrack : IAsyncDisposable
{
    /// <summary>Gets the published track.</summary>
    RoomTrack Track { get; }

    /// <summary>Sends a frame. The caller keeps ownership of <paramref name="frame"/>; it is copied before this returns.</summary>
    /// <param name="frame">A frame of the track's size.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the frame was accepted.</returns>
    ValueTask WriteAsync(VideoFrame frame, CancellationToken cancellationToken = default);
}
