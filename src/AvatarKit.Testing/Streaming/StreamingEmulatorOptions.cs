using Microsoft.Extensions.AI;

namespace AvatarKit.Testing.Streaming;

/// <summary>Settings of a <see cref="StreamingEmulator"/>.</summary>
public sealed class StreamingEmulatorOptions
{
    /// <summary>An interactive avatar of the emulator's catalogue.</summary>
    public const string AvatarId = "Shawn_Therapist_public";

    /// <summary>Gets or sets the API key the emulator accepts in <c>X-Api-Key</c>.</summary>
    public string ApiKey { get; set; } = "hg_test_key";

    /// <summary>Gets or sets the loopback port to listen on; 0 (the default) lets the OS choose a free one.</summary>
    public int Port { get; set; }

    /// <summary>Gets or sets how many sessions may be open at once (trial tokens allow 3).</summary>
    public int MaxConcurrentSessions { get; set; } = 3;

    /// <summary>Gets or sets the hard session limit (<c>session_duration_limit</c>, 600 s observed).</summary>
    public TimeSpan SessionDurationLimit { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Gets or sets how long after a task the avatar starts speaking.</summary>
    public TimeSpan SpeechLatency { get; set; } = TimeSpan.FromMilliseconds(150);

    /// <summary>Gets or sets the emulated avatar's looks and pacing.</summary>
    public EmulatedAvatarOptions Avatar { get; set; } = new();

    /// <summary>Gets or sets the avatar's voice; a synthesized babble when null.</summary>
    public ITextToSpeechClient? TextToSpeech { get; set; }
}
