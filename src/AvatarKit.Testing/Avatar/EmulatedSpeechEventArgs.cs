namespace AvatarKit.Testing;

/// <summary>An utterance of an <see cref="EmulatedAvatar"/> started or ended.</summary>
/// <param name="utteranceId">The id the emulator gave the utterance.</param>
/// <param name="text">The text, when known.</param>
/// <param name="interrupted">Whether the utterance was cut by an interrupt.</param>
public sealed class EmulatedSpeechEventArgs(string utteranceId, string? text, bool interrupted) : EventArgs
{
    /// <summary>Gets the utterance id.</summary>
    public string UtteranceId { get; } = utteranceId;

    /// <summary>Gets the text, when known.</summary>
    public string? Text { get; } = text;

    /// <summary>Gets a value indicating whether the utterance was cut by an interrupt.</summary>
    public bool Interrupted { get; } = interrupted;
}
