namespace AvatarKit.Speech.Deepgram;

/// <summary>
/// Controls one live transcription started with
/// <see cref="DeepgramSpeechToTextClient.GetStreamingTextAsync(IAsyncEnumerable{AudioFrame}, Microsoft.Extensions.AI.SpeechToTextOptions?, DeepgramListenController?, CancellationToken)"/>:
/// pass a new controller in, then call <see cref="FinalizeAsync"/> while the updates are read.
/// </summary>
public sealed class DeepgramListenController
{
    private ListenSession? _session;

    /// <summary>Gets a value indicating whether a transcription is running with this controller.</summary>
    public bool IsActive => Volatile.Read(ref _session) is not null;

    /// <summary>
    /// Asks Deepgram to finalize the audio received so far now; a final result with
    /// <see cref="DeepgramSpeechProperties.FromFinalize"/> follows (its text may be empty).
    /// </summary>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the request is sent.</returns>
    /// <exception cref="InvalidOperationException">No transcription is running with this controller.</exception>
    public Task FinalizeAsync(CancellationToken cancellationToken = default) =>
        (Volatile.Read(ref _session) ?? throw new InvalidOperationException("No live transcription is running with this controller; pass it to GetStreamingTextAsync first."))
            .FinalizeAsync(cancellationToken);

    internal void Attach(ListenSession session)
    {
        if (Interlocked.CompareExchange(ref _session, session, null) is not null)
        {
            throw new InvalidOperationException("This controller already controls a running transcription; use one controller per stream.");
        }
    }

    internal void Detach(ListenSession session) => Interlocked.CompareExchange(ref _session, null, session);
}
