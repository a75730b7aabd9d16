using BenchmarkDotNet.Attributes;

namespace AvatarKit.Benchmarks.Core;

/// <summary>PCM16 conversions on one 20 ms frame.</summary>
[MemoryDiagnoser]
public class Pcm16Benchmarks
{
    private readonly short[] _frame16k = new short[320];
    private readonly short[] _frame48k = new short[960];
    private readonly short[] _out24k = new short[480];
    private readonly short[] _out16k = new short[320];
    private readonly byte[] _bytes = new byte[1920];
    private AudioFrame _stereo48k = null!;

    [GlobalSetup]
    public void Setup()
    {
        for (var i = 0; i < _frame48k.Length; i++)
        {
            _frame48k[i] = (short)(10_000 * Math.Sin(2 * Math.PI * 440 * i / 48_000));
        }

        Array.Copy(_frame48k, _frame16k, _frame16k.Length);
        var stereo = new short[1920];
        Pcm16.MonoToStereo(_frame48k, stereo);
        _stereo48k = AudioFrame.Copy(new AudioFormat(48_000, 2), stereo, TimeSpan.Zero);
    }

    [GlobalCleanup]
    public void Cleanup() => _stereo48k.Dispose();

    [Benchmark]
    public int Resample16kTo24k() => Pcm16.Resample(_frame16k, 16_000, _out24k, 24_000);

    [Benchmark]
    public int Resample48kTo16k() => Pcm16.Resample(_frame48k, 48_000, _out16k, 16_000);

    [Benchmark]
    public int SamplesToBytes() => Pcm16.ToBytes(_frame48k, _bytes);

    /// <summary>A full frame conversion as the in-process room does for a 16 kHz mono reader (pooled buffers).</summary>
    [Benchmark]
    public int ConvertStereo48kFrameToMono16k()
    {
        using var converted = AudioConversion.Convert(_stereo48k, AudioFormat.Pcm16Mono16kHz);
        return converted.SampleCount;
    }
}
