namespace AvatarKit;

/// <summary>Arguments of the avatar's speaking events.</summary>
/// <param name="utteranceId">The id of the utterance (provider task or event id).</param>
/// <param name="text">The text of the utterance, when known.</param>
/// <param name="timestamp">When it happened.</param>
public sealed class AvatarSpeechEventArgs(string utteranceId, string? text, DateTimeOffset timestamp) : EventArgs
{
    /// <summary>Gets the id of the utterance.</summary>
    public string UtteranceId { get; } = utteranceId;

    /// <summary>Gets the text of the utterance, when known.</summary>
    public string? Text { get; } = text;

    /// <summary>Gets when it happened.</summary>
    public DateTimeOffset Timestamp { get; } = timestamp;

    /// <summary>Gets a value indicating whether the utterance was cut short by an interrupt (only on <see cref="IAvatarSession.SpeakingEnded"/>).</summary>
    public bool Interrupted { get; init; }
}
