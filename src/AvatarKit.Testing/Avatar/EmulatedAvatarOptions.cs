namespace AvatarKit.Testing;

/// <summary>How an <see cref="EmulatedAvatar"/> looks, sounds and paces its speech.</summary>
public sealed class EmulatedAvatarOptions
{
    /// <summary>Gets or sets the participant identity; <c>heygen</c>, as the real avatar.</summary>
    public string Identity { get; set; } = "heygen";

    /// <summary>Gets or sets the video width in pixels.</summary>
    public int Width { get; set; } = 320;

    /// <summary>Gets or sets the video height in pixels.</summary>
    public int Height { get; set; } = 240;

    /// <summary>Gets or sets the video frame rate.</summary>
    public int FramesPerSecond { get; set; } = 15;

    /// <summary>Gets or sets the format of the published audio track; PCM16 mono 24 kHz, as LiveAvatar's LITE input.</summary>
    public AudioFormat AudioFormat { get; set; } = AudioFormat.Pcm16Mono24kHz;

    /// <summary>Gets or sets how fast the built-in babble speaks, in characters per second (about natural speech).</summary>
    public double BabbleCharactersPerSecond { get; set; } = 15;

    /// <summary>Gets or sets the shortest babble utterance.</summary>
    public TimeSpan MinimumUtterance { get; set; } = TimeSpan.FromMilliseconds(300);
}
