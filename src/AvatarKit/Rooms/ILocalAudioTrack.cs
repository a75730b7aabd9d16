namespace AvatarKit;

/// <summary>A local audio track published into a room.</summary>
public interface ILocalAudioTrack : IAsyncDisposable
{
    /// <summary>Gets the published track.</summary>
    RoomTrack Track { get; }

    /// <summary>Gets the format frames must have.</summary>
    AudioFormat Format { get; }

    /// <summary>Sends a frame. The caller keeps ownership of <paramref name="frame"/>; it is copied before this returns.</summary>
    /// <param name="frame">Audio in <see cref="Format"/>.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the frame was accepted (this is where backpressure applies).</returns>
    ValueTask WriteAsync(AudioFrame frame, CancellationToken cancellationToken = default);
}
