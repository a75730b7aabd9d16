namespace AvatarKit;

/// <summary>
/// Describes interleaved 16-bit signed little-endian PCM audio: the one sample format AvatarKit
/// moves between stages (capture, speech-to-text, text-to-speech, rooms, recording).
/// </summary>
/// <remarks>
/// Providers that need another encoding convert at their edge; keeping one in-memory format
/// means no stage has to guess what a buffer holds.
/// </remarks>
public readonly record struct AudioFormat
{
    /// <summary>Bytes in one sample of one channel.</summary>
    public const int BytesPerSample = 2;

    /// <summary>PCM16 mono at 16 kHz: what speech-to-text services expect.</summary>
    public static AudioFormat Pcm16Mono16kHz { get; } = new(16_000, 1);

    /// <summary>PCM16 mono at 24 kHz: what LiveAvatar LITE mode and Aura text-to-speech use.</summary>
    public static AudioFormat Pcm16Mono24kHz { get; } = new(24_000, 1);

    /// <summary>PCM16 mono at 48 kHz: WebRTC's native rate.</summary>
    public static AudioFormat Pcm16Mono48kHz { get; } = new(48_000, 1);

    /// <summary>Initializes a new <see cref="AudioFormat"/>.</summary>
    /// <param name="sampleRate">Samples per second per channel, 8,000 to 192,000.</param>
    /// <param name="channels">Interleaved channels, 1 to 8.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside its range.</exception>
    public AudioFormat(int sampleRate, int channels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleRate, 8_000);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sampleRate, 192_000);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(channels, 8);
        SampleRate = sampleRate;
        Channels = channels;
    }

    /// <summary>Gets the samples per second per channel.</summary>
    public int SampleRate { get; }

    /// <summary>Gets the number of interleaved channels.</summary>
    public int Channels { get; }

    /// <summary>Gets the bytes of one sample frame (one sample of every channel).</summary>
    public int BlockAlign => BytesPerSample * Channels;

    /// <summary>Gets the bytes of one second of audio.</summary>
    public int BytesPerSecond => BlockAlign * SampleRate;

    /// <summary>Gets the number of bytes that hold <paramref name="duration"/> of audio, rounded down to whole sample frames.</summary>
    /// <param name="duration">A non-negative duration.</param>
    /// <returns>The byte count.</returns>
    public int GetByteCount(TimeSpan duration)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        return checked((int)(duration.Ticks * SampleRate / TimeSpan.TicksPerSecond) * BlockAlign);
    }

    /// <summary>Gets the duration that <paramref name="byteCount"/> bytes of audio last.</summary>
    /// <param name="byteCount">A non-negative byte count.</param>
    /// <returns>The duration.</returns>
    public TimeSpan GetDuration(int byteCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(byteCount);
        return TimeSpan.FromTicks((long)byteCount / BlockAlign * TimeSpan.TicksPerSecond / SampleRate);
    }

    /// <inheritdoc />
    public override string ToString() => $"PCM16 {SampleRate} Hz {(Channels == 1 ? "mono" : Channels == 2 ? "stereo" : $"{Channels} ch")}";
}
