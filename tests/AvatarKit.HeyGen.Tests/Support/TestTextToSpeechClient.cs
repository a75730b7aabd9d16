using System.Buffers.Binary;
using System.Collections.Concurrent;
using Microsoft.Extensions.AI;

namespace AvatarKit.HeyGen.Tests;

/// <summary>A text-to-speech double: a 16 kHz WAV tone whose length follows the text (so LITE must resample to 24 kHz).</summary>
internal sealed class TestTextToSpeechClient : ITextToSpeechClient
{
    public TimeSpan PerCharacter { get; set; } = TimeSpan.FromMilliseconds(40);

    public TimeSpan Latency { get; set; } = TimeSpan.FromMilliseconds(20);

    public ConcurrentQueue<(string Text, DateTimeOffset At)> Calls { get; } = new();

    public async Task<TextToSpeechResponse> GetAudioAsync(string text, TextToSpeechOptions? options = null, CancellationToken cancellationToken = default)
    {
        Calls.Enqueue((text, DateTimeOffset.UtcNow));
        await Task.Delay(Latency, cancellationToken);
        return new TextToSpeechResponse([new DataContent(Wav(text.Length * PerCharacter), "audio/wav")]);
    }

    public async IAsyncEnumerable<TextToSpeechResponseUpdate> GetStreamingAudioAsync(string text, TextToSpeechOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetAudioAsync(text, options, cancellationToken);
        yield return new TextToSpeechResponseUpdate(response.Contents);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }

    internal static byte[] Wav(TimeSpan duration, int rate = 16_000)
    {
        var samples = (int)(duration.TotalSeconds * rate);
        var bytes = new byte[44 + samples * 2];
        "RIFF"u8.CopyTo(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), 36 + samples * 2);
        "WAVEfmt "u8.CopyTo(bytes.AsSpan(8));
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), 16);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(20), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(22), 1);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(24), rate);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(28), rate * 2);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(32), 2);
        BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(34), 16);
        "data"u8.CopyTo(bytes.AsSpan(36));
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(40), samples * 2);
        for (var i = 0; i < samples; i++)
        {
            var value = (short)(Math.Sin(2 * Math.PI * 220 * i / rate) * 8000);
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(44 + i * 2), value);
        }

        return bytes;
    }
}
