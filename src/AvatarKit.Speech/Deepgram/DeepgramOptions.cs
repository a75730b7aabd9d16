namespace AvatarKit.Speech.Deepgram;

/// <summary>
/// Settings of the Deepgram clients, bound from <c>AvatarKit:Deepgram</c>; the API key falls back to
/// <c>DEEPGRAM_API_KEY</c>. Validated when a client is created (and at start when registered with DI).
/// </summary>
public sealed class DeepgramOptions
{
    /// <summary>The default service address.</summary>
    public static readonly Uri DefaultBaseUrl = new("https://api.deepgram.com");

    /// <summary>Gets or sets the API key (<c>Authorization: Token</c>) or a temporary token prefixed with <c>Bearer </c>.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Gets or sets the base URL for REST and WebSocket requests (an emulator's address in tests).</summary>
    public Uri BaseUrl { get; set; } = DefaultBaseUrl;

    /// <summary>Gets or sets the live and pre-recorded transcription settings.</summary>
    public DeepgramListenOptions Listen { get; set; } = new();

    /// <summary>Gets or sets the Aura text-to-speech settings.</summary>
    public DeepgramSpeakOptions Speak { get; set; } = new();

    /// <summary>Returns one message per invalid setting; empty when valid.</summary>
    /// <returns>The problems, each naming the setting and how to fix it.</returns>
    public IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(ApiKey))
        {
            yield return "ApiKey is not set; set AvatarKit:Deepgram:ApiKey or the DEEPGRAM_API_KEY environment variable.";
        }

        if (BaseUrl is null || !BaseUrl.IsAbsoluteUri || BaseUrl.Scheme is not ("http" or "https" or "ws" or "wss"))
        {
            yield return $"BaseUrl '{BaseUrl}' must be an absolute http(s) or ws(s) URL, such as {DefaultBaseUrl}.";
        }

        foreach (var problem in (Listen ?? throw new InvalidOperationException("Listen options are null.")).Validate())
        {
            yield return "Listen." + problem;
        }

        foreach (var problem in (Speak ?? throw new InvalidOperationException("Speak options are null.")).Validate())
        {
            yield return "Speak." + problem;
        }
    }

    internal void ThrowIfInvalid()
    {
        var problems = Validate().ToList();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid Deepgram options: " + string.Join(" ", problems));
        }
    }
}

/// <summary>Settings of Deepgram transcription (<c>/v1/listen</c>); names follow Deepgram's query parameters.</summary>
public sealed class DeepgramListenOptions
{
    /// <summary>Gets or sets the model (<c>nova-3</c>).</summary>
    public string Model { get; set; } = "nova-3";

    /// <summary>Gets or sets the BCP-47 language (<c>en</c>; <c>multi</c> for nova-3 code switching).</summary>
    public string Language { get; set; } = "en";

    /// <summary>Gets or sets the audio encoding sent; AvatarKit moves PCM16, so only <c>linear16</c> is accepted.</summary>
    public string Encoding { get; set; } = "linear16";

    /// <summary>Gets or sets the sample rate of the audio sent, in Hz (16,000).</summary>
    public int SampleRate { get; set; } = 16_000;

    /// <summary>Gets or sets the number of interleaved channels sent (1).</summary>
    public int Channels { get; set; } = 1;

    /// <summary>Gets or sets a value indicating whether to add punctuation and capitals.</summary>
    public bool Punctuate { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether to format numbers, dates and the like (implies punctuation).</summary>
    public bool SmartFormat { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether to receive interim (not yet final) results.</summary>
    public bool InterimResults { get; set; } = true;

    /// <summary>Gets or sets the silence that ends speech (<c>speech_final</c>); null sends <c>endpointing=false</c>.</summary>
    public TimeSpan? Endpointing { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Gets or sets the gap after the last word that produces an <c>UtteranceEnd</c> (needs interim results); null disables it.</summary>
    public TimeSpan? UtteranceEnd { get; set; } = TimeSpan.FromMilliseconds(1000);

    /// <summary>Gets or sets a value indicating whether to receive <c>SpeechStarted</c> events.</summary>
    public bool VadEvents { get; set; } = true;

    /// <summary>Gets the key terms to boost (nova-3 <c>keyterm</c>).</summary>
    public IList<string> Keyterms { get; } = new List<string>();

    /// <summary>Gets or sets how long the socket may go without audio before a <c>KeepAlive</c> is sent (3 s; Deepgram closes after 10 s).</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Gets or sets how many times a dropped live connection is redialled before the stream fails.</summary>
    public int MaxReconnectAttempts { get; set; } = 5;

    /// <summary>Gets or sets how much unfinalized audio is kept for re-sending after a reconnect (30 s).</summary>
    public TimeSpan ReplayBufferLimit { get; set; } = TimeSpan.FromSeconds(30);

    internal IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Model))
        {
            yield return "Model is empty; use a Deepgram model such as nova-3.";
        }

        if (string.IsNullOrWhiteSpace(Language))
        {
            yield return "Language is empty; use a BCP-47 tag such as en or en-US.";
        }

        if (Encoding != "linear16")
        {
            yield return $"Encoding '{Encoding}' is not supported; AvatarKit sends PCM16, so use linear16.";
        }

        if (SampleRate is < 8_000 or > 48_000)
        {
            yield return $"SampleRate {SampleRate} must be between 8000 and 48000 Hz.";
        }

        if (Channels is < 1 or > 8)
        {
            yield return $"Channels {Channels} must be between 1 and 8.";
        }

        if (Endpointing is { } endpointing && (endpointing < TimeSpan.FromMilliseconds(10) || endpointing > TimeSpan.FromSeconds(10)))
        {
            yield return $"Endpointing {endpointing.TotalMilliseconds} ms must be between 10 ms and 10 s, or null to disable it.";
        }

        if (UtteranceEnd is { } utteranceEnd)
        {
            if (!InterimResults)
            {
                yield return "UtteranceEnd needs InterimResults = true (a Deepgram rule).";
            }

            if (utteranceEnd < TimeSpan.FromMilliseconds(1000) || utteranceEnd > TimeSpan.FromSeconds(5))
            {
                yield return $"UtteranceEnd {utteranceEnd.TotalMilliseconds} ms must be between 1000 ms and 5 s.";
            }
        }

        if (Keyterms.Any(string.IsNullOrWhiteSpace))
        {
            yield return "Keyterms contains an empty term.";
        }

        if (KeepAliveInterval <= TimeSpan.Zero || KeepAliveInterval >= TimeSpan.FromSeconds(10))
        {
            yield return $"KeepAliveInterval {KeepAliveInterval} must be above zero and below Deepgram's 10 s idle timeout.";
        }

        if (MaxReconnectAttempts is < 0 or > 100)
        {
            yield return $"MaxReconnectAttempts {MaxReconnectAttempts} must be between 0 and 100.";
        }

        if (ReplayBufferLimit < TimeSpan.FromSeconds(1) || ReplayBufferLimit > TimeSpan.FromMinutes(10))
        {
            yield return $"ReplayBufferLimit {ReplayBufferLimit} must be between 1 s and 10 min.";
        }
    }
}

/// <summary>Settings of Deepgram Aura text-to-speech (<c>/v1/speak</c>).</summary>
public sealed class DeepgramSpeakOptions
{
    private static readonly int[] Rates = [8_000, 16_000, 24_000, 32_000, 48_000];

    /// <summary>Gets or sets the voice model (<c>aura-2-thalia-en</c>).</summary>
    public string Model { get; set; } = "aura-2-thalia-en";

    /// <summary>Gets or sets the output rate of the PCM16 audio, in Hz (24,000; 8,000/16,000/24,000/32,000/48,000).</summary>
    public int SampleRate { get; set; } = 24_000;

    internal IEnumerable<string> Validate()
    {
        if (string.IsNullOrWhiteSpace(Model))
        {
            yield return "Model is empty; use an Aura voice such as aura-2-thalia-en.";
        }

        if (!Rates.Contains(SampleRate))
        {
            yield return $"SampleRate {SampleRate} is not offered by Aura for linear16; use 8000, 16000, 24000, 32000 or 48000.";
        }
    }
}
