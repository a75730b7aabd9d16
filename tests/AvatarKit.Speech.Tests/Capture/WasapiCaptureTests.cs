using System.Buffers.Binary;
using AvatarKit.Speech.Capture;
using AvatarKit.Speech.Capture.Wasapi;
using NAudio.Wave;

namespace AvatarKit.Speech.Tests.Capture;

/// <summary>
/// The platform-independent parts of the WASAPI backend: decoding the device formats WASAPI hands out,
/// converting them to the requested format, choosing the endpoint, and choosing the backend.
/// (Opening a real WASAPI endpoint needs Windows and is not run here.)
/// </summary>
public sealed class WasapiCaptureTests
{
    private static readonly WaveFormat FloatExtensibleStereo48k = new WaveFormatExtensible(48_000, 32, 2, AudioMediaSubtypes.MEDIASUBTYPE_IEEE_FLOAT, 32, 3);

    [Fact]
    public void The_shared_mode_float_mix_format_becomes_20_ms_frames_of_the_requested_format()
    {
        var converter = new CaptureFormatConverter(FloatExtensibleStereo48k, AudioFormat.Pcm16Mono16kHz);
        var device = FloatStereo(Sine(48_000, 440, 0.5, seconds: 1));
        var frames = new List<AudioFrame>();

        // WASAPI packets of odd sizes, some splitting a sample frame, must not matter.
        for (var offset = 0; offset < device.Length; offset += 1234)
        {
            converter.Write(device.AsSpan(offset, Math.Min(1234, device.Length - offset)), frames.Add);
        }

        Assert.Equal(50, frames.Count);
        Assert.All(frames, f => Assert.Equal(AudioFormat.Pcm16Mono16kHz, f.Format));
        Assert.All(frames, f => Assert.Equal(320, f.SampleCount));
        Assert.Equal(Enumerable.Range(0, 50).Select(i => TimeSpan.FromMilliseconds(20 * i)), frames.Select(f => f.Timestamp));
        var output = frames.SelectMany(f => f.Samples.ToArray()).ToArray();

        // A 0.5 full-scale sine: RMS −9.03 dBFS, and still 440 Hz (880 zero crossings a second) after resampling.
        Assert.InRange(Pcm16.GetRmsDbfs(output), -9.2, -8.9);
        var crossings = output.Zip(output.Skip(1)).Count(p => (p.First < 0) != (p.Second < 0));
        Assert.InRange(crossings, 876, 882);
        frames.ForEach(f => f.Dispose());
    }

    [Fact]
    public void Chunking_does_not_change_the_output()
    {
        var device = FloatStereo(Sine(48_000, 1000, 0.8, seconds: 0.2));
        var whole = Convert(FloatExtensibleStereo48k, AudioFormat.Pcm16Mono24kHz, device, chunk: device.Length);
        var pieces = Convert(FloatExtensibleStereo48k, AudioFormat.Pcm16Mono24kHz, device, chunk: 7);

        Assert.Equal(whole, pieces);
        Assert.Equal(24_000 / 5, whole.Length);
    }

    [Theory]
    [InlineData(16, 0x1234_0000, 0x1234)]
    [InlineData(24, 0x1234_5600, 0x1234)]
    [InlineData(32, 0x1234_5678, 0x1234)]
    [InlineData(32, unchecked((int)0x8000_0000), short.MinValue)]
    public void Integer_pcm_keeps_the_top_16_bits(int bits, int value32, short expected)
    {
        var format = new WaveFormatExtensible(16_000, bits, 1, AudioMediaSubtypes.MEDIASUBTYPE_PCM, bits, 4);
        var bytesPerSample = bits / 8;
        var device = new byte[320 * bytesPerSample];
        var sample = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(sample, value32);
        for (var i = 0; i < 320; i++)
        {
            // The top bytes of the 32-bit value are the sample in its container.
            sample.AsSpan(4 - bytesPerSample).CopyTo(device.AsSpan(i * bytesPerSample));
        }

        var output = Convert(format, AudioFormat.Pcm16Mono16kHz, device, chunk: 5);

        Assert.Equal(320, output.Length);
        Assert.All(output, s => Assert.Equal(expected, s));
    }

    [Fact]
    public void Plain_ieee_float_and_pcm16_formats_are_decoded_too()
    {
        var pcm = Convert(new WaveFormat(16_000, 16, 1), AudioFormat.Pcm16Mono16kHz, Pcm16Bytes(Enumerable.Repeat((short)-1234, 320)), chunk: 33);
        var floats = Convert(WaveFormat.CreateIeeeFloatWaveFormat(16_000, 1), AudioFormat.Pcm16Mono16kHz, FloatBytes(Enumerable.Repeat(0.25f, 320)), chunk: 33);

        Assert.All(pcm, s => Assert.Equal(-1234, s));
        Assert.All(floats, s => Assert.Equal(8192, s));

        // Out-of-range float (WASAPI can deliver it after gain) clips instead of wrapping.
        Assert.All(Convert(WaveFormat.CreateIeeeFloatWaveFormat(16_000, 1), AudioFormat.Pcm16Mono16kHz, FloatBytes(Enumerable.Repeat(1.7f, 320)), 320 * 4), s => Assert.Equal(short.MaxValue, s));
    }

    [Fact]
    public void A_packet_flagged_silent_is_silence_whatever_it_holds()
    {
        var converter = new CaptureFormatConverter(FloatExtensibleStereo48k, AudioFormat.Pcm16Mono16kHz);
        var frames = new List<AudioFrame>();

        converter.WriteSilence(960 * 2 * 4, frames.Add);

        var frame = Assert.Single(frames);
        Assert.All(frame.Samples.ToArray(), s => Assert.Equal(0, s));
        frame.Dispose();
    }

    [Fact]
    public void Undecodable_device_formats_are_refused_with_the_format_named()
    {
        var ac3 = new WaveFormatExtensible(48_000, 16, 2, AudioMediaSubtypes.MEDIASUBTYPE_DOLBY_AC3, 16, 3);

        var error = Assert.Throws<AudioInputException>(() => new CaptureFormatConverter(ac3, AudioFormat.Pcm16Mono16kHz));
        Assert.Contains("16-bit, 48000 Hz, 2 ch", error.Message, StringComparison.Ordinal);
        Assert.Throws<AudioInputException>(() => new CaptureFormatConverter(new WaveFormat(16_000, 8, 1), AudioFormat.Pcm16Mono16kHz));
    }

    [Fact]
    public void The_default_endpoint_is_chosen_when_none_is_named()
    {
        WasapiEndpoint[] endpoints = [new("{a}", "Microphone (USB Audio)", false), new("{b}", "Headset Microphone (Jabra)", true)];

        Assert.Equal("{b}", WasapiDeviceSelection.Select(endpoints, null).Id);
        Assert.Equal("{a}", WasapiDeviceSelection.Select([endpoints[0]], null).Id);
    }

    [Theory]
    [InlineData("{A}", "{a}")]
    [InlineData("microphone (usb audio)", "{a}")]
    [InlineData("jabra", "{b}")]
    public void A_named_endpoint_is_found_by_id_name_or_a_unique_part_of_its_name(string requested, string expectedId)
    {
        WasapiEndpoint[] endpoints = [new("{a}", "Microphone (USB Audio)", false), new("{b}", "Headset Microphone (Jabra)", true)];

        Assert.Equal(expectedId, WasapiDeviceSelection.Select(endpoints, requested).Id);
    }

    [Fact]
    public void Unknown_ambiguous_or_missing_endpoints_fail_with_what_is_available()
    {
        WasapiEndpoint[] endpoints = [new("{a}", "Microphone (USB Audio)", false), new("{b}", "Headset Microphone (Jabra)", true)];

        Assert.Contains("Headset Microphone (Jabra) [{b}]", Assert.Throws<AudioInputException>(() => WasapiDeviceSelection.Select(endpoints, "Realtek")).Message, StringComparison.Ordinal);
        Assert.Contains("several", Assert.Throws<AudioInputException>(() => WasapiDeviceSelection.Select(endpoints, "Microphone (")).Message, StringComparison.Ordinal);
        Assert.Contains("no active microphone", Assert.Throws<AudioInputException>(() => WasapiDeviceSelection.Select([], null)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, false, false, "Wasapi")]
    [InlineData(true, true, true, "Wasapi")]
    [InlineData(false, true, true, "Ffmpeg")]
    [InlineData(false, false, true, "PortAudio")]
    [InlineData(false, false, false, "None")]
    public void Windows_uses_WASAPI_and_other_systems_FFmpeg_then_PortAudio(bool windows, bool ffmpeg, bool portAudio, string expected) =>
        Assert.Equal(expected, Microphone.ChooseBackend(windows, ffmpeg, portAudio).ToString());

    [Fact]
    public void Off_Windows_the_microphone_is_never_WASAPI()
    {
        Assert.SkipWhen(OperatingSystem.IsWindows(), "this checks the non-Windows choice");
        Assert.SkipUnless(FfmpegAudioInput.IsAvailable || PortAudioInput.IsAvailable, "no capture backend is installed");

        Assert.DoesNotContain("wasapi", Microphone.Create().Name, StringComparison.Ordinal);
    }

    private static short[] Convert(WaveFormat source, AudioFormat target, byte[] device, int chunk)
    {
        var converter = new CaptureFormatConverter(source, target);
        var samples = new List<short>();
        for (var offset = 0; offset < device.Length; offset += chunk)
        {
            converter.Write(device.AsSpan(offset, Math.Min(chunk, device.Length - offset)), frame =>
            {
                samples.AddRange(frame.Samples.ToArray());
                frame.Dispose();
            });
        }

        return [.. samples];
    }

    private static float[] Sine(int rate, double frequency, double amplitude, double seconds) =>
        Enumerable.Range(0, (int)(rate * seconds)).Select(i => (float)(amplitude * Math.Sin(2 * Math.PI * frequency * i / rate))).ToArray();

    private static byte[] FloatStereo(float[] mono) => FloatBytes(mono.SelectMany(s => new[] { s, s }));

    private static byte[] FloatBytes(IEnumerable<float> samples)
    {
        var list = samples.ToList();
        var bytes = new byte[list.Count * 4];
        for (var i = 0; i < list.Count; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), list[i]);
        }

        return bytes;
    }

    private static byte[] Pcm16Bytes(IEnumerable<short> samples) => samples.SelectMany(s => BitConverter.GetBytes(s)).ToArray();
}
