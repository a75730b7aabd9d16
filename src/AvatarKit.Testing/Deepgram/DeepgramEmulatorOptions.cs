using System.Collections.Concurrent;
using Microsoft.Extensions.AI;

namespace AvatarKit.Testing.Deepgram;

/// <summary>Settings of a <see cref="DeepgramEmulator"/>; may be changed while it runs (tests set them per case).</summary>
public sealed class DeepgramEmulatorOptions
{
    /// <summary>Gets or sets the API key the emulator accepts (<c>Authorization: Token &lt;key&gt;</c>).</summary>
    public string ApiKey { get; set; } = "emulator-key";

    /// <summary>Gets or sets the loopback port to listen on; 0 (the default) lets the OS choose a free one.</summary>
    public int Port { get; set; }

    /// <summary>
    /// Gets the scripted transcripts: the n-th utterance the emulator detects (across all connections)
    /// is transcribed as <c>Transcripts[n % Count]</c>; <c>hello world</c> when empty.
    /// </summary>
    public IList<string> Transcripts { get; } = new List<string>();

    /// <summary>Appends the lines of a WAV file's sidecar text (<c>speech.wav</c> → <c>speech.txt</c>) to <see cref="Transcripts"/>, one utterance per line.</summary>
    /// <param name="wavPath">The WAV file whose sidecar to read.</param>
    public void AddTranscriptsFromSidecar(string wavPath)
    {
        foreach (var line in File.ReadLines(Path.ChangeExtension(wavPath, ".txt")).Where(l => !string.IsNullOrWhiteSpace(l)))
        {
            Transcripts.Add(line.Trim());
        }
    }

    /// <summary>Gets or sets how long a live connection may go without audio or KeepAlive before it is closed with 1011 <c>NET-0001</c> (10 s, as Deepgram).</summary>
    public TimeSpan InactivityTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how much audio passes between two interim results of one utterance.</summary>
    public TimeSpan InterimInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Gets or sets the RMS level (dBFS, per 10 ms) above which audio counts as speech.</summary>
    public double SpeechThresholdDbfs { get; set; } = -40;

    /// <summary>Gets or sets the voice of the Aura endpoints; espeak-ng when installed, else a synthetic tone voice.</summary>
    public ITextToSpeechClient? Voice { get; set; }

    /// <summary>Gets or sets how much audio each binary frame or HTTP chunk of the speak endpoints carries.</summary>
    public TimeSpan SpeakChunkDuration { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Gets the faults to inject.</summary>
    public DeepgramEmulatorFaults Faults { get; } = new();
}

/// <summary>Faults a <see cref="DeepgramEmulator"/> injects, for resilience tests.</summary>
public sealed class DeepgramEmulatorFaults
{
    private readonly ConcurrentQueue<int> _handshakeFailures = new();
    private int _dropsLeft;
    private int _closesLeft;

    /// <summary>Gets or sets the delay added before every server message of the live listen socket.</summary>
    public TimeSpan ResultDelay { get; set; }

    /// <summary>Gets or sets the number of malformed or fuzzed messages sent on each listen connection when its first audio arrives.</summary>
    public int MalformedMessages { get; set; }

    /// <summary>Gets or sets a hook awaited before each audio chunk of the speak endpoints (the argument is the chunk index), to hold synthesis.</summary>
    public Func<int, CancellationToken, Task>? BeforeSpeakChunk { get; set; }

    /// <summary>Refuses the next <paramref name="count"/> handshakes (listen and speak) with <paramref name="statusCode"/> (e.g. 429, 500, 503).</summary>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="count">How many handshakes to refuse.</param>
    public void FailNextHandshakes(int statusCode, int count = 1)
    {
        for (var i = 0; i < count; i++)
        {
            _handshakeFailures.Enqueue(statusCode);
        }
    }

    /// <summary>Drops the TCP connection (no close frame) of the next <paramref name="connections"/> listen connections once each has received <paramref name="audio"/> of audio.</summary>
    /// <param name="audio">Audio received on the connection before it drops.</param>
    /// <param name="connections">How many connections to drop.</param>
    public void DropAfterAudio(TimeSpan audio, int connections = 1)
    {
        DropAfter = audio;
        Volatile.Write(ref _dropsLeft, connections);
    }

    /// <summary>Closes the next <paramref name="connections"/> listen connections with a close frame once each has received <paramref name="audio"/> of audio.</summary>
    /// <param name="audio">Audio received on the connection before it closes.</param>
    /// <param name="closeCode">The WebSocket close code (e.g. 1011).</param>
    /// <param name="reason">The close reason (e.g. <c>NET-0000</c>).</param>
    /// <param name="connections">How many connections to close.</param>
    public void CloseAfterAudio(TimeSpan audio, int closeCode, string reason, int connections = 1)
    {
        CloseAfter = (audio, closeCode, reason);
        Volatile.Write(ref _closesLeft, connections);
    }

    internal TimeSpan? DropAfter { get; private set; }

    internal (TimeSpan Audio, int Code, string Reason)? CloseAfter { get; private set; }

    internal bool TryTakeHandshakeFailure(out int statusCode) => _handshakeFailures.TryDequeue(out statusCode);

    internal bool TakeDrop() => DropAfter is not null && Interlocked.Decrement(ref _dropsLeft) >= 0;

    internal bool TakeClose() => CloseAfter is not null && Interlocked.Decrement(ref _closesLeft) >= 0;
}
