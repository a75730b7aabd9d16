using Microsoft.Extensions.AI;

namespace AvatarKit.Testing.LiveAvatar;

/// <summary>Settings of a <see cref="LiveAvatarEmulator"/>.</summary>
public sealed class LiveAvatarEmulatorOptions
{
    /// <summary>The sandbox avatar ("Wayne"), the only one sandbox sessions may use.</summary>
    public const string SandboxAvatarId = "dd73ea75-1218-4ef3-92ce-606d5f7fbc0a";

    /// <summary>A public (non-sandbox) avatar of the emulator's catalogue.</summary>
    public const string PublicAvatarId = "11111111-2222-4333-8444-555555555555";

    /// <summary>Gets or sets the API key the emulator accepts in <c>X-API-KEY</c>.</summary>
    public string ApiKey { get; set; } = "la_test_key";

    /// <summary>Gets or sets the loopback port to listen on; 0 (the default) lets the OS choose a free one.</summary>
    public int Port { get; set; }

    /// <summary>Gets or sets how many sessions may be active at once (the plan's concurrency limit).</summary>
    public int MaxConcurrentSessions { get; set; } = 3;

    /// <summary>Gets or sets the longest session the plan allows (returned by start as <c>max_session_duration</c>).</summary>
    public TimeSpan MaxSessionDuration { get; set; } = TimeSpan.FromMinutes(20);

    /// <summary>Gets or sets how long sandbox sessions last (about a minute on the real service).</summary>
    public TimeSpan SandboxSessionDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets the idle timeout (5 minutes on the real service).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets how long after a FULL speak command the avatar starts speaking (the server's TTS latency).</summary>
    public TimeSpan SpeechLatency { get; set; } = TimeSpan.FromMilliseconds(150);

    /// <summary>Gets or sets the emulated avatar's looks and pacing.</summary>
    public EmulatedAvatarOptions Avatar { get; set; } = new();

    /// <summary>Gets or sets the voice of FULL-mode speech; a synthesized babble when null.</summary>
    public ITextToSpeechClient? TextToSpeech { get; set; }
}
