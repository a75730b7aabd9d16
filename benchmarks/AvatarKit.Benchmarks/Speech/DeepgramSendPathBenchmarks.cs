using System.Net.WebSockets;
using AvatarKit.Speech.Deepgram;
using BenchmarkDotNet.Attributes;

namespace AvatarKit.Benchmarks.Speech;

/// <summary>
/// The live transcription send path per 20 ms frame of 16 kHz mono PCM16: copy into the replay buffer
/// and send as a binary WebSocket frame (client side, masked), to a stream that discards the bytes so
/// only the client's own work is measured. Target: 0 B allocated per frame.
/// </summary>
[MemoryDiagnoser]
public class DeepgramSendPathBenchmarks : IDisposable
{
    private const int FramesPerSecond = 50;
    private readonly byte[] _frame = new byte[AudioFormat.Pcm16Mono16kHz.GetByteCount(TimeSpan.FromMilliseconds(20))];
    private ReplayBuffer _replay = null!;
    private AudioSendPath _send = null!;

    [GlobalSetup]
    public void Setup()
    {
        Random.Shared.NextBytes(_frame);
        var socket = WebSocket.CreateFromStream(Stream.Null, new WebSocketCreationOptions { IsServer = false });
        var format = AudioFormat.Pcm16Mono16kHz;
        _replay = new ReplayBuffer(format.BytesPerSecond * 2, format.GetByteCount(TimeSpan.FromSeconds(30)), format.BlockAlign);
        _send = new AudioSendPath(socket, _replay);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _send.Dispose();
        _replay.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>One second of audio (50 frames), then a final result trims the replay buffer, as in a conversation.</summary>
    /// <returns>A task.</returns>
    [Benchmark(OperationsPerInvoke = FramesPerSecond)]
    public async Task SendFrame()
    {
        for (var i = 0; i < FramesPerSecond; i++)
        {
            await _send.SendAudioAsync(_frame, CancellationToken.None).ConfigureAwait(false);
        }

        _replay.TrimTo(_replay.EndPosition);
    }
}
