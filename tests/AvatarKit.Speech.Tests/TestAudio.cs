using System.Runtime.CompilerServices;
using AvatarKit.Testing.Voice;

namespace AvatarKit.Speech.Tests;

/// <summary>Speech-shaped PCM built from the synthetic voice (one tone burst per word), and frame sources over it.</summary>
internal static class TestAudio
{
    public static readonly AudioFormat Format = AudioFormat.Pcm16Mono16kHz;

    public static byte[] Silence(double seconds) => new byte[Format.GetByteCount(TimeSpan.FromSeconds(seconds))];

    public static byte[] Words(int count) => SyntheticTextToSpeechClient.Synthesize(string.Join(' ', Enumerable.Repeat("word", count)), Format.SampleRate);

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public static double Seconds(byte[] pcm) => (double)pcm.Length / Format.BytesPerSecond;

    /// <summary>Yields 20 ms frames as fast as they are read, or <paramref name="frameDelay"/> apart; <paramref name="pauseAt"/> runs before the frame at each given byte offset.</summary>
    public static async IAsyncEnumerable<AudioFrame> Frames(byte[] pcm, IReadOnlyDictionary<int, Func<CancellationToken, Task>>? pauseAt = null, TimeSpan frameDelay = default, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var frameBytes = Format.GetByteCount(TimeSpan.FromMilliseconds(20));
        for (var offset = 0; offset < pcm.Length; offset += frameBytes)
        {
            if (pauseAt is not null && pauseAt.TryGetValue(offset, out var pause))
            {
                await pause(cancellationToken);
            }

            cancellationToken.ThrowIfCancellationRequested();
            yield return AudioFrame.Copy(Format, pcm.AsSpan(offset, Math.Min(frameBytes, pcm.Length - offset)), Format.GetDuration(offset));
            if (frameDelay > TimeSpan.Zero)
            {
                await Task.Delay(frameDelay, cancellationToken);
            }
            else
            {
                await Task.Yield();
            }
        }
    }

    /// <summary>The byte offset of the 20 ms frame that contains <paramref name="seconds"/>.</summary>
    public static int FrameOffset(double seconds)
    {
        var frameBytes = Format.GetByteCount(TimeSpan.FromMilliseconds(20));
        return Format.GetByteCount(TimeSpan.FromSeconds(seconds)) / frameBytes * frameBytes;
    }
}
