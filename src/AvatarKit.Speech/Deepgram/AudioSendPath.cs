using System.Diagnostics;
using System.Net.WebSockets;

namespace AvatarKit.Speech.Deepgram;

/// <summary>
/// The hot path of live transcription: every audio chunk is copied into the replay buffer and sent
/// as one binary frame, under one lock shared with control messages and reconnects (so a chunk is
/// never both re-sent by a reconnect and sent again). Allocates nothing per chunk.
/// </summary>
internal sealed class AudioSendPath : IDisposable
{
    private static readonly ReadOnlyMemory<byte> KeepAliveMessage = """{"type":"KeepAlive"}"""u8.ToArray();
    private static readonly ReadOnlyMemory<byte> FinalizeMessage = """{"type":"Finalize"}"""u8.ToArray();
    private static readonly ReadOnlyMemory<byte> CloseStreamMessage = """{"type":"CloseStream"}"""u8.ToArray();
    private readonly SemaphoreSlim _lock = new(1, 1);
    private long _lastAudioTimestamp = Stopwatch.GetTimestamp();
    private bool _closeStreamSent;

    public AudioSendPath(WebSocket socket, ReplayBuffer replay)
    {
        Socket = socket;
        Replay = replay;
    }

    /// <summary>Gets the current connection.</summary>
    public WebSocket Socket { get; private set; }

    public ReplayBuffer Replay { get; }

    /// <summary>Gets the time since audio was last sent.</summary>
    public TimeSpan SinceLastAudio => Stopwatch.GetElapsedTime(Volatile.Read(ref _lastAudioTimestamp));

    /// <summary>Sends one chunk of audio. A failed send is not an error here: the receiver notices the drop and the chunk is re-sent from the replay buffer.</summary>
    public async ValueTask SendAudioAsync(ReadOnlyMemory<byte> audio, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Replay.Append(audio.Span);
            Volatile.Write(ref _lastAudioTimestamp, Stopwatch.GetTimestamp());
            await TrySendAsync(Socket, audio, WebSocketMessageType.Binary, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    public ValueTask SendKeepAliveAsync(CancellationToken cancellationToken) => SendControlAsync(KeepAliveMessage, cancellationToken);

    public ValueTask SendFinalizeAsync(CancellationToken cancellationToken) => SendControlAsync(FinalizeMessage, cancellationToken);

    public async ValueTask SendCloseStreamAsync(CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _closeStreamSent = true;
            await TrySendAsync(Socket, CloseStreamMessage, WebSocketMessageType.Text, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// Swaps in a new connection (dialled by <paramref name="connect"/> while sends wait) and re-sends the
    /// unfinalized audio, then CloseStream if it had been sent. Returns the stream position where the new
    /// connection's clock starts.
    /// </summary>
    public async Task<long> ReconnectAsync(Func<CancellationToken, Task<WebSocket>> connect, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var socket = await connect(cancellationToken).ConfigureAwait(false);
            Socket.Dispose();
            Socket = socket;
            var (buffer, count, start) = Replay.RentSnapshot();
            try
            {
                const int Chunk = 16 * 1024;
                for (var offset = 0; offset < count; offset += Chunk)
                {
                    await socket.SendAsync(buffer.AsMemory(offset, Math.Min(Chunk, count - offset)), WebSocketMessageType.Binary, endOfMessage: true, cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
            }

            if (_closeStreamSent)
            {
                await socket.SendAsync(CloseStreamMessage, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            }

            return start;
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Dispose()
    {
        Socket.Dispose();
        _lock.Dispose();
    }

    private static async ValueTask TrySendAsync(WebSocket socket, ReadOnlyMemory<byte> payload, WebSocketMessageType type, CancellationToken cancellationToken)
    {
        if (socket.State != WebSocketState.Open)
        {
            return;
        }

        try
        {
            await socket.SendAsync(payload, type, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The receive loop sees the same failure and reconnects; the audio is in the replay buffer.
            // (A send on a socket that broke meanwhile throws OperationCanceledException around the IOException.)
        }
    }

    private async ValueTask SendControlAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await TrySendAsync(Socket, message, WebSocketMessageType.Text, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }
}
