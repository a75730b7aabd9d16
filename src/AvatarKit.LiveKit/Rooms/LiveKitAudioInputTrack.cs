namespace AvatarKit.LiveKit;

/// <summary>A local audio track that streams an <see cref="IAudioInput"/> into a room until the input ends, is stopped or the track is disposed.</summary>
/// <remarks>Obtain one from <see cref="LiveKitRoom.PublishAudioAsync(string, IAudioInput, AudioFormat?, CancellationToken)"/>.</remarks>
public sealed class LiveKitAudioInputTrack : IAsyncDisposable
{
    private readonly ILocalAudioTrack _track;
    private readonly CancellationTokenSource _stop;
    private long _framesSent;
    private int _disposed;

    internal LiveKitAudioInputTrack(ILocalAudioTrack track, IAudioInput input, CancellationToken cancellationToken)
    {
        _track = track;
        InputName = input.Name;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Completion = Task.Run(() => PumpAsync(input, _stop.Token), CancellationToken.None);
    }

    /// <summary>Gets the published track.</summary>
    public RoomTrack Track => _track.Track;

    /// <summary>Gets the track the input is written to.</summary>
    internal ILocalAudioTrack Inner => _track;

    /// <summary>Gets the format the track is published in (the input's audio is converted to it).</summary>
    public AudioFormat Format => _track.Format;

    /// <summary>Gets the name of the input being streamed.</summary>
    public string InputName { get; }

    /// <summary>Gets how many frames of the input were sent so far.</summary>
    public long FramesSent => Interlocked.Read(ref _framesSent);

    /// <summary>Gets a task that completes when the input ended, faults with the input's or the track's error, or is cancelled when streaming was stopped.</summary>
    public Task Completion { get; }

    /// <summary>Stops streaming, waits for the last frame to be handed over, then unpublishes the track.</summary>
    /// <returns>A task that completes when the track is unpublished.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Completion.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or AudioInputException or LiveKitException or ObjectDisposedException)
        {
            // Already reported through Completion; disposing must still unpublish.
        }

        _stop.Dispose();
        await _track.DisposeAsync().ConfigureAwait(false);
    }

    private async Task PumpAsync(IAudioInput input, CancellationToken cancellationToken)
    {
        await foreach (var frame in input.CaptureAsync(_track.Format, cancellationToken).ConfigureAwait(false))
        {
            using (frame)
            {
                // Inputs convert to the asked format by contract; one that does not is converted here.
                if (frame.Format == _track.Format)
                {
                    await _track.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    using var converted = AudioConversion.Convert(frame, _track.Format);
                    await _track.WriteAsync(converted, cancellationToken).ConfigureAwait(false);
                }
            }

            Interlocked.Increment(ref _framesSent);
        }
    }
}
