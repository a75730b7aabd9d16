namespace AvatarKit.Testing.Gemini;

/// <summary>Settings of the <see cref="GeminiEmulator"/>; may be changed while it runs.</summary>
public sealed class GeminiEmulatorOptions
{
    /// <summary>Gets or sets the API key the emulator accepts.</summary>
    public string ApiKey { get; set; } = "emulator-gemini-key";

    /// <summary>Gets or sets the loopback port to listen on; 0 (the default) lets the OS choose a free one.</summary>
    public int Port { get; set; }

    /// <summary>Gets or sets the time before the first chunk of an answer (Google: about 0.3-1 s).</summary>
    public TimeSpan TimeToFirstToken { get; set; } = TimeSpan.FromMilliseconds(400);

    /// <summary>Gets or sets the streaming speed in tokens (words) per second; 0 or less sends chunks back to back.</summary>
    public double TokensPerSecond { get; set; } = 100;

    /// <summary>Gets or sets how many words one streamed chunk carries.</summary>
    public int WordsPerChunk { get; set; } = 4;

    /// <summary>Gets or sets the largest <c>models.list</c> page the emulator returns (Google: 1000).</summary>
    public int MaxPageSize { get; set; } = 1000;

    /// <summary>Gets the model ids the emulator serves; others get 404.</summary>
    public IList<string> Models { get; } =
    [
        "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.5-pro", "gemini-3.5-flash-lite", "gemini-3.8-flash",
        "gemini-flash-latest", "gemini-flash-lite-latest", "gemini-pro-latest",
    ];

    /// <summary>
    /// Gets or sets the answer when no rule matches and nothing is queued; receives the request. By
    /// default echoes the user's last text, or reports a function's result.
    /// </summary>
    public Func<GeminiEmulatorRequest, GeminiEmulatorAnswer> DefaultAnswer { get; set; } = request =>
        request.LastFunctionResponses is [var result, ..]
            ? GeminiEmulatorAnswer.FromText($"The {result["name"]} function returned {result["response"]?.ToJsonString()}.")
            : GeminiEmulatorAnswer.FromText($"You said: {request.LastUserText ?? "nothing"}. This is the Gemini emulator answering.");
}
