using System.Buffers.Binary;
using System.Text.Json;
using AvatarKit.HeyGen;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.AI;

namespace AvatarKit.Benchmarks.HeyGen;

/// <summary>The LITE hot path: TTS output (1 s of 16 kHz WAV) to 24 kHz PCM, then to one agent.speak message; and parsing a server event.</summary>
[MemoryDiagnoser]
public class LiteAudioBenchmarks
{
    private TextToSpeechResponse _speech = null!;
    private byte[] _pcm24k = [];
    private byte[] _event = [];
    private readonly System.Buffers.ArrayBufferWriter<byte> _speakBuffer = new(LiteSpeakEncoder.GetMaxLength(48_000));

    [GlobalSetup]
    public void Setup()
    {
        const int rate = 16_000;
        var wav = new byte[44 + rate * 2];
        "RIFF"u8.CopyTo(wav);
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(4), 36 + rate * 2);
        "WAVEfmt "u8.CopyTo(wav.AsSpan(8));
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(16), 16);
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(20), 1);
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(22), 1);
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(24), rate);
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(28), rate * 2);
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(32), 2);
        BinaryPrimitives.WriteInt16LittleEndian(wav.AsSpan(34), 16);
        "data"u8.CopyTo(wav.AsSpan(36));
        BinaryPrimitives.WriteInt32LittleEndian(wav.AsSpan(40), rate * 2);
        _speech = new TextToSpeechResponse([new DataContent(wav, "audio/wav")]);
        _pcm24k = SpeechAudioDecoder.ToPcm(_speech, AudioFormat.Pcm16Mono24kHz);
        _event = """{"type":"agent.speak_started","event_id":"5d2c3a1e-0000-4000-8000-000000000000","task":{"id":"5d2c"}}"""u8.ToArray();
    }

    [Benchmark]
    public int DecodeAndResampleOneSecond() => SpeechAudioDecoder.ToPcm(_speech, AudioFormat.Pcm16Mono24kHz).Length;

    [Benchmark]
    public int EncodeOneSecondSpeakMessage()
    {
        LiteSpeakEncoder.Write(_speakBuffer, "5d2c3a1e-0000-4000-8000-000000000000", _pcm24k);
        return _speakBuffer.WrittenCount;
    }

    [Benchmark]
    public string? ParseServerEvent() => JsonSerializer.Deserialize(_event, LiveAvatarEventJsonContext.Default.LiteServerEvent)?.EventId;
}
