using AvatarKit.Testing.Chat;
using AvatarKit.Testing.Deepgram;
using AvatarKit.Testing.Gemini;
using AvatarKit.Testing.LiveAvatar;
using AvatarKit.Testing.Streaming;
using AvatarKit.Testing.Voice;
using Microsoft.Extensions.AI;

namespace AvatarKit.Testing.Sandbox;

/// <summary>
/// The offline sandbox: local emulators of the hosted services, started on loopback ports, so
/// AvatarKit runs end to end with no API key. The LiveAvatar emulator's avatar renders real frames
/// and speech into an in-process room (or any room host given), speaking with espeak-ng when it
/// is installed; the Deepgram and Gemini emulators answer their real protocols; a scripted chat
/// client answers without any network. Dispose it to stop everything.
/// </summary>
public sealed class AvatarKitSandbox : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly Dictionary<string, SandboxEndpoint> _endpoints = new(StringComparer.Ordinal);

    private AvatarKitSandbox(InProcessRoomServer roomServer, IEmulatorRoomHost rooms, string voiceDescription)
    {
        RoomServer = roomServer;
        Rooms = rooms;
        VoiceDescription = voiceDescription;
    }

    /// <summary>Gets the in-process room server the sandbox avatar's rooms live in (unless <see cref="SandboxOptions.Rooms"/> was given).</summary>
    public InProcessRoomServer RoomServer { get; }

    /// <summary>Gets where the emulated avatars' rooms live; clients join them with <see cref="IEmulatorRoomHost.Connector"/>.</summary>
    public IEmulatorRoomHost Rooms { get; }

    /// <summary>Gets the LiveAvatar emulator, when started.</summary>
    public LiveAvatarEmulator? LiveAvatar { get; private set; }

    /// <summary>Gets the legacy HeyGen Streaming API emulator, when started.</summary>
    public StreamingEmulator? HeyGenStreaming { get; private set; }

    /// <summary>Gets the Deepgram emulator, when started.</summary>
    public DeepgramEmulator? Deepgram { get; private set; }

    /// <summary>Gets the Gemini emulator, when started.</summary>
    public GeminiEmulator? Gemini { get; private set; }

    /// <summary>Gets how the sandbox avatar speaks, in words (espeak-ng, or the synthetic fallback and how to get real speech).</summary>
    public string VoiceDescription { get; }

    /// <summary>Gets the base URL and accepted API key of each running emulator, by name (<c>liveavatar</c>, <c>heygen</c>, <c>deepgram</c>, <c>gemini</c>).</summary>
    public IReadOnlyDictionary<string, SandboxEndpoint> Endpoints => _endpoints;

    /// <summary>Starts the sandbox.</summary>
    /// <param name="options">What to start; everything but the fake LiveKit server when null.</param>
    /// <param name="cancellationToken">Cancels starting.</param>
    /// <returns>The running sandbox.</returns>
    public static async Task<AvatarKitSandbox> StartAsync(SandboxOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new SandboxOptions();
        var voice = CreateVoice(out var voiceDescription);
        var roomServer = new InProcessRoomServer();
        var sandbox = new AvatarKitSandbox(roomServer, options.Rooms ?? new InProcessRoomHost(roomServer), voiceDescription);
        try
        {
            if (options.LiveAvatar)
            {
                var emulatorOptions = new LiveAvatarEmulatorOptions { TextToSpeech = voice, SpeechLatency = options.AvatarSpeechLatency, Port = options.Ports.LiveAvatar, Avatar = AvatarLook(options) };
                sandbox.LiveAvatar = await LiveAvatarEmulator.StartAsync(sandbox.Rooms, emulatorOptions, cancellationToken).ConfigureAwait(false);
                sandbox._owned.Add(sandbox.LiveAvatar);
                sandbox._endpoints["liveavatar"] = new SandboxEndpoint(sandbox.LiveAvatar.BaseUrl, sandbox.LiveAvatar.ApiKey);
            }

            if (options.HeyGenStreaming)
            {
                sandbox.HeyGenStreaming = await StreamingEmulator.StartAsync(sandbox.Rooms, new StreamingEmulatorOptions { TextToSpeech = voice, Port = options.Ports.HeyGen, Avatar = AvatarLook(options) }, cancellationToken).ConfigureAwait(false);
                sandbox._owned.Add(sandbox.HeyGenStreaming);
                sandbox._endpoints["heygen"] = new SandboxEndpoint(sandbox.HeyGenStreaming.BaseUrl, sandbox.HeyGenStreaming.ApiKey);
            }

            if (options.Deepgram)
            {
                sandbox.Deepgram = await DeepgramEmulator.StartAsync(
                    o =>
                    {
                        o.Voice = voice;
                        o.Port = options.Ports.Deepgram;
                    },
                    cancellationToken).ConfigureAwait(false);
                sandbox._owned.Add(sandbox.Deepgram);
                sandbox._endpoints["deepgram"] = new SandboxEndpoint(sandbox.Deepgram.BaseUrl, sandbox.Deepgram.Options.ApiKey);
            }

            if (options.Gemini)
            {
                sandbox.Gemini = await GeminiEmulator.StartAsync(new GeminiEmulatorOptions { Port = options.Ports.Gemini }, cancellationToken).ConfigureAwait(false);
                sandbox._owned.Add(sandbox.Gemini);
                sandbox._endpoints["gemini"] = new SandboxEndpoint(sandbox.Gemini.BaseUrl, sandbox.Gemini.ApiKey);
            }

            return sandbox;
        }
        catch
        {
            await sandbox.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Creates the sandbox's local chat client: scripted answers for the demo's scenarios (greeting,
    /// a factual question, a long story, a follow-up answered from the history) streamed like a hosted model.
    /// </summary>
    /// <returns>A new chat client.</returns>
    public static ScriptedChatClient CreateChatClient() => new ScriptedChatClient()
        .When(@"\bcapital of france\b", _ => "The capital of France is Paris. It sits on the Seine and has about two million inhabitants.")
        .When(@"\b(long )?story\b", _ => string.Join(' ', SandboxStory));

    /// <summary>Creates the voice the sandbox avatar speaks with: espeak-ng when installed, else a synthetic voice.</summary>
    /// <param name="description">How it speaks, in words, for the user.</param>
    /// <returns>The text-to-speech client.</returns>
    public static ITextToSpeechClient CreateVoice(out string description)
    {
        if (EspeakTextToSpeechClient.IsAvailable)
        {
            description = "espeak-ng speech";
            return new EspeakTextToSpeechClient();
        }

        description = "synthetic tones (install espeak-ng for real speech)";
        return new SyntheticTextToSpeechClient();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync().ConfigureAwait(false);
        }

        _owned.Clear();
    }

    // Both avatars (LiveAvatar and HeyGen Streaming) look the same in the sandbox.
    private static EmulatedAvatarOptions AvatarLook(SandboxOptions options) => new() { Width = options.VideoWidth, Height = options.VideoHeight };

    private static readonly string[] SandboxStory =
    [
        "Once upon a time, a lighthouse keeper lived alone on a rocky island.",
        "Every evening she climbed one hundred and twelve steps to light the lamp.",
        "One stormy night, a small boat lost its way between the reefs.",
        "She swung the beam across the waves, again and again, until the boat found the channel.",
        "The sailors came ashore at dawn, soaked and grateful, with a basket of fresh bread.",
        "From then on, every ship that passed the island sounded its horn three times.",
        "And the keeper, who had never felt lonely, waved back from the gallery each time.",
        "Years later, when the lamp was automated, she stayed on the island anyway.",
        "She said the sea had become her neighbour, and one does not leave a good neighbour.",
    ];
}

/// <summary>What <see cref="AvatarKitSandbox.StartAsync"/> starts.</summary>
public sealed class SandboxOptions
{
    /// <summary>Gets or sets a value indicating whether to start the LiveAvatar emulator; default true.</summary>
    public bool LiveAvatar { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether to start the legacy HeyGen Streaming API emulator; default false.</summary>
    public bool HeyGenStreaming { get; set; }

    /// <summary>Gets or sets a value indicating whether to start the Deepgram emulator; default true.</summary>
    public bool Deepgram { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether to start the Gemini emulator; default true.</summary>
    public bool Gemini { get; set; } = true;

    /// <summary>
    /// Gets or sets where the emulated avatars' rooms live (e.g. a fake LiveKit server reachable by
    /// any LiveKit client); the sandbox's in-process room server when null.
    /// </summary>
    public IEmulatorRoomHost? Rooms { get; set; }

    /// <summary>Gets the loopback port of each emulator; 0 (the default) lets the OS choose a free one.</summary>
    public SandboxPorts Ports { get; } = new();

    /// <summary>Gets or sets the sandbox avatar's video width; default 640.</summary>
    public int VideoWidth { get; set; } = 640;

    /// <summary>Gets or sets the sandbox avatar's video height; default 360.</summary>
    public int VideoHeight { get; set; } = 360;

    /// <summary>Gets or sets how long after a speak command the sandbox avatar starts speaking; default 150 ms.</summary>
    public TimeSpan AvatarSpeechLatency { get; set; } = TimeSpan.FromMilliseconds(150);
}

/// <summary>The loopback port of each sandbox emulator; 0 lets the OS choose a free one.</summary>
public sealed class SandboxPorts
{
    /// <summary>Gets or sets the LiveAvatar emulator's port.</summary>
    public int LiveAvatar { get; set; }

    /// <summary>Gets or sets the legacy HeyGen Streaming API emulator's port.</summary>
    public int HeyGen { get; set; }

    /// <summary>Gets or sets the Deepgram emulator's port.</summary>
    public int Deepgram { get; set; }

    /// <summary>Gets or sets the Gemini emulator's port.</summary>
    public int Gemini { get; set; }
}

/// <summary>Where an emulator listens and the key it accepts.</summary>
/// <param name="BaseUrl">The base URL clients use instead of the real service's.</param>
/// <param name="ApiKey">The API key the emulator accepts.</param>
public sealed record SandboxEndpoint(Uri BaseUrl, string ApiKey)
{
    /// <summary>Gets the API secret, for services that sign tokens (LiveKit).</summary>
    public string? ApiSecret { get; init; }
}
