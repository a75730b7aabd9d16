using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace AvatarKit;

/// <summary>
/// Conversions between PCM16 representations: bytes and samples, mono and stereo, and linear
/// resampling between rates (16, 24, 48 kHz and any other). All methods write into
/// caller-provided spans and allocate nothing.
/// </summary>
public static class Pcm16
{
    /// <summary>Views little-endian PCM16 bytes as samples without copying.</summary>
    /// <param name="bytes">An even number of bytes.</param>
    /// <returns>The samples.</returns>
    /// <exception cref="ArgumentException">The byte count is odd.</exception>
    public static ReadOnlySpan<short> AsSamples(ReadOnlySpan<byte> bytes)
    {
        EnsureEven(bytes.Length, nameof(bytes));
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("PCM16 views need a little-endian machine.");
        }

        return MemoryMarshal.Cast<byte, short>(bytes);
    }

    /// <summary>Views samples as little-endian PCM16 bytes without copying.</summary>
    /// <param name="samples">The samples.</param>
    /// <returns>The bytes.</returns>
    public static ReadOnlySpan<byte> AsBytes(ReadOnlySpan<short> samples) => MemoryMarshal.AsBytes(samples);

    /// <summary>Copies little-endian PCM16 bytes into samples.</summary>
    /// <param name="source">An even number of bytes.</param>
    /// <param name="destination">At least half as many samples as source bytes.</param>
    /// <returns>The number of samples written.</returns>
    public static int ToSamples(ReadOnlySpan<byte> source, Span<short> destination)
    {
        EnsureEven(source.Length, nameof(source));
        var count = source.Length / 2;
        EnsureRoom(destination.Length, count, nameof(destination));
        for (var i = 0; i < count; i++)
        {
            destination[i] = BinaryPrimitives.ReadInt16LittleEndian(source.Slice(i * 2, 2));
        }

        return count;
    }

    /// <summary>Copies samples into little-endian PCM16 bytes.</summary>
    /// <param name="source">The samples.</param>
    /// <param name="destination">At least twice as many bytes as samples.</param>
    /// <returns>The number of bytes written.</returns>
    public static int ToBytes(ReadOnlySpan<short> source, Span<byte> destination)
    {
        EnsureRoom(destination.Length, source.Length * 2, nameof(destination));
        for (var i = 0; i < source.Length; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(destination.Slice(i * 2, 2), source[i]);
        }

        return source.Length * 2;
    }

    /// <summary>Mixes interleaved stereo down to mono by averaging the two channels.</summary>
    /// <param name="stereo">Interleaved left/right samples (even count).</param>
    /// <param name="mono">At least half as many samples.</param>
    /// <returns>The number of mono samples written.</returns>
    public static int StereoToMono(ReadOnlySpan<short> stereo, Span<short> mono)
    {
        EnsureEven(stereo.Length, nameof(stereo));
        var count = stereo.Length / 2;
        EnsureRoom(mono.Length, count, nameof(mono));
        for (var i = 0; i < count; i++)
        {
            mono[i] = (short)((stereo[2 * i] + stereo[2 * i + 1]) >> 1);
        }

        return count;
    }

    /// <summary>Duplicates mono samples into interleaved stereo.</summary>
    /// <param name="mono">The mono samples.</param>
    /// <param name="stereo">At least twice as many samples.</param>
    /// <returns>The number of stereo samples written (twice the mono count).</returns>
    public static int MonoToStereo(ReadOnlySpan<short> mono, Span<short> stereo)
    {
        EnsureRoom(stereo.Length, mono.Length * 2, nameof(stereo));
        for (var i = mono.Length - 1; i >= 0; i--)
        {
            // Backwards, so that converting in place (stereo overlapping mono's start) is safe.
            var sample = mono[i];
            stereo[2 * i] = sample;
            stereo[2 * i + 1] = sample;
        }

        return mono.Length * 2;
    }

    /// <summary>Gets how many output samples <see cref="Resample"/> writes for <paramref name="inputSamples"/> mono samples.</summary>
    /// <param name="inputSamples">Input sample count.</param>
    /// <param name="fromRate">Input rate in Hz.</param>
    /// <param name="toRate">Output rate in Hz.</param>
    /// <returns>The output sample count.</returns>
    public static int GetResampledLength(int inputSamples, int fromRate, int toRate)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(inputSamples);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(fromRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(toRate);
        return (int)((long)inputSamples * toRate / fromRate);
    }

    /// <summary>
    /// Resamples mono PCM16 by linear interpolation. Suited to speech between 16, 24 and 48 kHz:
    /// downsampling does no low-pass filtering, so content above the new Nyquist frequency aliases.
    /// </summary>
    /// <param name="source">Mono samples at <paramref name="fromRate"/>.</param>
    /// <param name="fromRate">Input rate in Hz.</param>
    /// <param name="destination">Room for <see cref="GetResampledLength"/> samples.</param>
    /// <param name="toRate">Output rate in Hz.</param>
    /// <returns>The number of samples written.</returns>
    public static int Resample(ReadOnlySpan<short> source, int fromRate, Span<short> destination, int toRate)
    {
        var count = GetResampledLength(source.Length, fromRate, toRate);
        EnsureRoom(destination.Length, count, nameof(destination));
        if (fromRate == toRate)
        {
            source[..count].CopyTo(destination);
            return count;
        }

        var last = source.Length - 1;
        for (var i = 0; i < count; i++)
        {
            // Position in the source, in fixed point, so the step has no cumulative float error.
            var numerator = (long)i * fromRate;
            var index = (int)(numerator / toRate);
            var fraction = (double)(numerator % toRate) / toRate;
            var a = source[Math.Min(index, last)];
            var b = source[Math.Min(index + 1, last)];
            destination[i] = (short)Math.Round(a + (b - a) * fraction);
        }

        return count;
    }

    /// <summary>Converts normalized float samples (−1..1) to PCM16, clipping out-of-range values.</summary>
    /// <param name="source">Float samples.</param>
    /// <param name="destination">At least as many samples.</param>
    /// <returns>The number of samples written.</returns>
    public static int FromFloat(ReadOnlySpan<float> source, Span<short> destination)
    {
        EnsureRoom(destination.Length, source.Length, nameof(destination));
        for (var i = 0; i < source.Length; i++)
        {
            destination[i] = (short)Math.Clamp(MathF.Round(source[i] * short.MaxValue), short.MinValue, short.MaxValue);
        }

        return source.Length;
    }

    /// <summary>Gets the root-mean-square level of the samples in dBFS (−∞ for silence).</summary>
    /// <param name="samples">The samples.</param>
    /// <returns>The level; 0 dBFS is a full-scale square wave.</returns>
    public static double GetRmsDbfs(ReadOnlySpan<short> samples)
    {
        if (samples.IsEmpty)
        {
            return double.NegativeInfinity;
        }

        double sum = 0;
        foreach (var sample in samples)
        {
            sum += (double)sample * sample;
        }

        var rms = Math.Sqrt(sum / samples.Length) / short.MaxValue;
        return 20 * Math.Log10(rms);
    }

    private static void EnsureEven(int length, string name)
    {
        if ((length & 1) != 0)
        {
            throw new ArgumentException($"PCM16 data comes in pairs; {length} is odd.", name);
        }
    }

    private static void EnsureRoom(int available, int needed, string name)
    {
        if (available < needed)
        {
            throw new ArgumentException($"The destination holds {available} items; {needed} are needed.", name);
        }
    }
}
