using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace AvatarKit.HeyGen;

/// <summary>What a <see cref="LiteAudioStream"/> reports to the session that owns it.</summary>
internal interface ILiteStreamOwner
{
    /// <summary>Gets the remote session's id, for messages.</summary>
    string SessionId { get; }

    /// <summary>Gets a value indicating whether the session is closing (a dropped socket is then expected).</summary>
    bool IsClosing { get; }

    /// <summary>The avatar started to speak an utterance.</summary>
    void OnUtteranceStarted(string utteranceId, string? text);

    /// <summary>The avatar finished or was cut off.</summary>
    void OnUtteranceEnded(string utteranceId, string? text, bool interrupted);

    /// <summary>Every utterance in flight ended (the socket dropped or was replaced).</summary>
    void OnAllUtterancesEnded();

    /// <summary>The server announced the session's end and closed the socket.</summary>
    void OnServerClosed(string reason);
}

/// <summary>
/// The LITE audio protocol, shared by LiveAvatar LITE mode and the Streaming API's realtime endpoint: text becomes
/// speech through an <see cref="ITextToSpeechClient"/>, resampled to PCM16 mono 24 kHz and sent as base64
/// <c>agent.speak</c> messages in the documented chunk sizes, never more than
/// <see cref="HeyGenServiceOptions.LiteLeadTime"/> ahead of playback, then <c>agent.speak_end</c>. One speak call
/// is one utterance (one <c>event_id</c>). Server events (<c>agent.speak_started</c>, <c>agent.speak_ended</c>,
/// <c>agent.speak_interrupted</c>, <c>session.state_updated</c>) go to the owner. A dropped socket is reported;
/// the next speak reconnects. A renewal swaps the socket and speaks again what was cut.
/// </summary>
internal sealed partial class LiteAudioStream : IAsyncDisposable
{
    private static readonly AudioFormat LiteFormat = AudioFormat.Pcm16Mono24kHz;

    private readonly ILiteStreamOwner _owner;
    private readonly HeyGenServiceOptions _options;
    private readonly ITextToSpeechClient _textToSpeech;
    private readonly ILogger _logger;
    private readonly string _provider;
    private readonly Channel<SpeechJob> _jobs = Channel.CreateBounded<SpeechJob>(new BoundedChannelOptions(32) { SingleReader = true });
    private readonly ConcurrentDictionary<string, string> _texts = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    // Reused by the speaker (its only user) for agent.speak messages: ~64 KB per second of audio, allocated once.
    private readonly ArrayBufferWriter<byte> _speakBuffer = new(LiteSpeakEncoder.GetMaxLength(48_000));

    // Held by the speaker while it speaks a job and by a renewal while it swaps the socket.
    private readonly SemaphoreSlim _swapGate = new(1, 1);
    private readonly Channel<SpeechJob> _replay = Channel.CreateUnbounded<SpeechJob>();

    // Utterances sent (wholly or in part) whose end the server has not reported: what a renewal must say again.
    private readonly ConcurrentDictionary<string, SpeechJob> _unfinished = new(StringComparer.Ordinal);
    private ClientWebSocket? _socket;
    private Uri? _url;
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _receiver = Task.CompletedTask;
    private Task _speaker = Task.CompletedTask;
    private CancellationToken _lifetime;
    private volatile SpeechJob? _current;
    private volatile bool _socketLost;
    private volatile bool _closedByServer;

    /// <param name="owner">The session.</param>
    /// <param name="options">Chunk sizes, lead time and the connect timeout.</param>
    /// <param name="textToSpeech">The voice.</param>
    /// <param name="logger">The session's logger.</param>
    /// <param name="provider">The provider's name, for messages.</param>
    public LiteAudioStream(ILiteStreamOwner owner, HeyGenServiceOptions options, ITextToSpeechClient textToSpeech, ILogger logger, string provider)
    {
        _owner = owner;
        _options = options;
        _textToSpeech = textToSpeech;
        _logger = logger;
        _provider = provider;
    }

    /// <summary>Gets a value indicating whether the WebSocket dropped and was not reconnected yet.</summary>
    public bool SocketLost => _socketLost;

    /// <summary>Connects to <paramref name="url"/> and waits until the server reports the session connected.</summary>
    public async Task ConnectAsync(Uri url, CancellationToken cancellationToken)
    {
        _url = url;
        await ConnectSocketAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts sending queued utterances; it stops when <paramref name="lifetime"/> ends.</summary>
    public void StartSpeaker(CancellationToken lifetime)
    {
        _lifetime = lifetime;
        _speaker = Task.Run(() => RunSpeakerAsync(lifetime), CancellationToken.None);
    }

    public async Task SpeakAsync(string text, CancellationToken cancellationToken)
    {
        var sentences = Channel.CreateUnbounded<string>();
        foreach (var sentence in SentenceChunker.Split(text))
        {
            sentences.Writer.TryWrite(sentence);
        }

        sentences.Writer.TryComplete();
        await EnqueueAsync(new SpeechJob(sentences.Reader), cancellationToken).ConfigureAwait(false);
    }

    public async Task SpeakAsync(IAsyncEnumerable<string> textChunks, CancellationToken cancellationToken)
    {
        var sentences = Channel.CreateBounded<string>(16);
        await EnqueueAsync(new SpeechJob(sentences.Reader), cancellationToken).ConfigureAwait(false);
        try
        {
            // Sentences reach the speaker as they complete, so audio starts before the text ends.
            await foreach (var sentence in SentenceChunker.SplitAsync(textChunks, cancellationToken).ConfigureAwait(false))
            {
                await sentences.Writer.WriteAsync(sentence, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            sentences.Writer.TryComplete();
        }
    }

    public async Task InterruptAsync(CancellationToken cancellationToken)
    {
        // Stop our side first (queued jobs and the send loop), then clear the server's buffer.
        while (_replay.Reader.TryRead(out var queued) || _jobs.Reader.TryRead(out queued))
        {
            queued.Cancel();
            queued.Dispose();
        }

        _current?.Cancel();
        _unfinished.Clear();
        if (!_socketLost)
        {
            await SendAsync(new LiteCommand("agent.interrupt", Guid.NewGuid().ToString()), cancellationToken, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Moves to a replacement session's socket: stops sending on the old one, runs <paramref name="beforeSocket"/>
    /// (e.g. joining the new room), connects to <paramref name="url"/>, closes the old socket, and queues first, in
    /// order, each cut answer from the sentence that was playing.
    /// </summary>
    public async Task SwapAsync(Uri url, Func<CancellationToken, Task> beforeSocket, CancellationToken cancellationToken)
    {
        var cut = _unfinished.Values.OrderBy(j => j.Sequence).ToList();
        _unfinished.Clear();
        _current?.Cancel();
        await _swapGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await beforeSocket(cancellationToken).ConfigureAwait(false);
            var previous = _socket;
            _url = url;
            await ConnectSocketAsync(cancellationToken).ConfigureAwait(false);
            await CloseSocketAsync(previous).ConfigureAwait(false);
            _owner.OnAllUtterancesEnded();
            foreach (var job in cut)
            {
                _replay.Writer.TryWrite(Resume(job));
            }
        }
        finally
        {
            _swapGate.Release();
        }
    }

    /// <summary>Stops the speaker and closes the socket; the owner's lifetime must be cancelled first.</summary>
    public async ValueTask DisposeAsync()
    {
        _jobs.Writer.TryComplete();
        _current?.Cancel();
        await _speaker.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await CloseSocketAsync(_socket).ConfigureAwait(false);
        await _receiver.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _sendLock.Dispose();
        _swapGate.Dispose();
    }

    private static async Task CloseSocketAsync(ClientWebSocket? socket)
    {
        if (socket is null)
        {
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            if (socket.State == WebSocketState.Open)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "session closed", timeout.Token).ConfigureAwait(false);
            }
            else if (socket.State == WebSocketState.CloseReceived)
            {
                // The server closed first (the session ended): complete its handshake.
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
        finally
        {
            socket.Abort();
            socket.Dispose();
        }
    }

    /// <summary>A job that speaks again the sentence <paramref name="cut"/> was playing, then the rest of its sentences.</summary>
    private SpeechJob Resume(SpeechJob cut)
    {
        var sentences = Channel.CreateUnbounded<string>();
        foreach (var sentence in cut.Unplayed())
        {
            sentences.Writer.TryWrite(sentence);
        }

        var lifetime = _lifetime;
        _ = Task.Run(
            async () =>
            {
                try
                {
                    await foreach (var sentence in cut.Sentences.ReadAllAsync(lifetime).ConfigureAwait(false))
                    {
                        sentences.Writer.TryWrite(sentence);
                    }
                }
                catch (OperationCanceledException)
                {
                }
                finally
                {
                    sentences.Writer.TryComplete();
                }
            },
            CancellationToken.None);
        return new SpeechJob(sentences.Reader);
    }

    private async Task EnqueueAsync(SpeechJob job, CancellationToken cancellationToken)
    {
        await EnsureSocketAsync(cancellationToken).ConfigureAwait(false);
        await _jobs.Writer.WriteAsync(job, cancellationToken).ConfigureAwait(false);
    }

    private async Task EnsureSocketAsync(CancellationToken cancellationToken)
    {
        if (!_socketLost)
        {
            return;
        }

        LogReconnecting(_logger, _owner.SessionId);
        try
        {
            var dead = _socket;
            await ConnectSocketAsync(cancellationToken).ConfigureAwait(false);
            await CloseSocketAsync(dead).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or TimeoutException or HttpRequestException)
        {
            throw new AvatarApiException($"The LITE WebSocket of avatar session {_owner.SessionId} dropped and could not be reconnected ({ex.Message}); start a new session.", ex);
        }
    }

    private async Task ConnectSocketAsync(CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await socket.ConnectAsync(_url!, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _socket = socket;
        _socketLost = false;
        _closedByServer = false;
        _receiver = Task.Run(() => ReceiveAsync(socket), CancellationToken.None);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.AvatarJoinTimeout);
        try
        {
            // Commands sent before "connected" are silently dropped by the server.
            await _connected.Task.WaitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{_provider} did not report the LITE WebSocket connected within {_options.AvatarJoinTimeout.TotalSeconds:0} s.");
        }
    }

    private async Task RunSpeakerAsync(CancellationToken lifetime)
    {
        SpeechJob? held = null;
        try
        {
            while ((held ?? await NextJobAsync(lifetime).ConfigureAwait(false)) is { } next)
            {
                await _swapGate.WaitAsync(lifetime).ConfigureAwait(false);
                try
                {
                    // A renewal may have queued the rest of a cut answer meanwhile: it goes first.
                    var job = _replay.Reader.TryRead(out var resumed) ? resumed : next;
                    held = ReferenceEquals(job, next) ? null : next;
                    await RunJobAsync(job, lifetime).ConfigureAwait(false);
                }
                finally
                {
                    _swapGate.Release();
                }
            }
        }
        catch (OperationCanceledException) when (lifetime.IsCancellationRequested)
        {
        }
    }

    private async Task<SpeechJob?> NextJobAsync(CancellationToken lifetime)
    {
        while (true)
        {
            if (_replay.Reader.TryRead(out var resumed))
            {
                return resumed;
            }

            if (_jobs.Reader.TryRead(out var job))
            {
                return job;
            }

            var more = _jobs.Reader.WaitToReadAsync(lifetime).AsTask();
            await Task.WhenAny(more, _replay.Reader.WaitToReadAsync(lifetime).AsTask()).ConfigureAwait(false);
            lifetime.ThrowIfCancellationRequested();
            if (more.IsCompletedSuccessfully && !more.Result && !_replay.Reader.TryPeek(out _))
            {
                return null;
            }
        }
    }

    private async Task RunJobAsync(SpeechJob job, CancellationToken lifetime)
    {
        if (job.IsCancelled)
        {
            job.Dispose();
            return;
        }

        _current = job;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(lifetime, job.Token);
        try
        {
            await SpeakJobAsync(job, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (linked.IsCancellationRequested)
        {
            // Interrupted, renewed or closing: the server's buffer is cleared or abandoned.
        }
#pragma warning disable CA1031 // A failed utterance (TTS error, dropped socket) must not stop later ones; it is logged.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogSpeechFailed(_logger, _owner.SessionId, job.EventId, ex.Message);
        }
        finally
        {
            _current = null;
            job.Dispose();
        }
    }

    private async Task SpeakJobAsync(SpeechJob job, CancellationToken cancellationToken)
    {
        var sent = TimeSpan.Zero;
        var first = true;
        var started = false;
        await foreach (var sentence in job.Sentences.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            job.Pending = sentence;
            _texts.AddOrUpdate(job.EventId, sentence, (_, before) => $"{before} {sentence}");
            var response = await _textToSpeech.GetAudioAsync(sentence, options: null, cancellationToken).ConfigureAwait(false);
            var pcm = SpeechAudioDecoder.ToPcm(response, LiteFormat);
            for (var offset = 0; offset < pcm.Length;)
            {
                var length = Math.Min(LiteFormat.GetByteCount(first ? _options.LiteFirstChunk : _options.LiteChunk), pcm.Length - offset);

                // Backpressure: keep the server's buffer at most LiteLeadTime ahead of what it has played.
                if (job.Clock is { } clock && sent - clock.Elapsed - _options.LiteLeadTime is { Ticks: > 0 } ahead)
                {
                    await Task.Delay(ahead, cancellationToken).ConfigureAwait(false);
                }

                LiteSpeakEncoder.Write(_speakBuffer, job.EventId, pcm.AsSpan(offset, length));
                await SendAsync(_speakBuffer.WrittenMemory, cancellationToken, cancellationToken).ConfigureAwait(false);
                if (job.Clock is null)
                {
                    job.Clock = Stopwatch.StartNew();
                    _unfinished[job.EventId] = job;
                }

                sent += LiteFormat.GetDuration(length);
                offset += length;
                first = false;
                started = true;
            }

            job.MarkSent(sentence, sent);
        }

        if (started)
        {
            await SendAsync(new LiteCommand("agent.speak_end", job.EventId), cancellationToken, cancellationToken).ConfigureAwait(false);
        }
    }

    private Task SendAsync(LiteCommand command, CancellationToken cancellationToken, CancellationToken abandon) =>
        SendAsync(JsonSerializer.SerializeToUtf8Bytes(command, LiveAvatarEventJsonContext.Default.LiteCommand), cancellationToken, abandon);

    private async Task SendAsync(ReadOnlyMemory<byte> payload, CancellationToken cancellationToken, CancellationToken abandon)
    {
        var socket = _socket ?? throw new InvalidOperationException("The LITE WebSocket is not connected.");
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Re-checked under the lock: a chunk must not follow an interrupt that was sent meanwhile.
            abandon.ThrowIfCancellationRequested();
            cancellationToken.ThrowIfCancellationRequested();

            // A frame once begun is sent whole: cancelling a WebSocket send midway aborts the socket, so an interrupt
            // landing during a chunk would drop the connection instead of clearing the avatar. Only the end of the
            // session stops a send.
            await socket.SendAsync(payload, WebSocketMessageType.Text, endOfMessage: true, _lifetime).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReceiveAsync(ClientWebSocket socket)
    {
        var buffer = new ArrayBufferWriter<byte>(8 * 1024);
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                buffer.ResetWrittenCount();
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await socket.ReceiveAsync(buffer.GetMemory(8 * 1024), CancellationToken.None).ConfigureAwait(false);
                    buffer.Advance(result.Count);
                }
                while (!result.EndOfMessage);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                OnServerEvent(buffer.WrittenSpan);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            LogSocketError(_logger, _owner.SessionId, ex.Message);
        }

        if (_owner.IsClosing || !ReferenceEquals(socket, _socket))
        {
            return;
        }

        if (_closedByServer)
        {
            _owner.OnServerClosed(socket.CloseStatusDescription is { Length: > 0 } reason ? reason : "UNKNOWN");
            return;
        }

        // Dropped without the session ending: report it, stop speaking; the next speak reconnects.
        _socketLost = true;
        _connected.TrySetException(new WebSocketException("The LITE WebSocket closed before it was connected."));
        _current?.Cancel();
        LogSocketDropped(_logger, _owner.SessionId);
        _owner.OnAllUtterancesEnded();
    }

    private void OnServerEvent(ReadOnlySpan<byte> payload)
    {
        LiteServerEvent? message;
        try
        {
            message = JsonSerializer.Deserialize(payload, LiveAvatarEventJsonContext.Default.LiteServerEvent);
        }
        catch (JsonException ex)
        {
            LogMalformedEvent(_logger, _owner.SessionId, ex.Message);
            return;
        }

        switch (message?.Type)
        {
            case null:
                LogMalformedEvent(_logger, _owner.SessionId, "no type");
                break;
            case "session.state_updated" when message.State == "connected":
                _connected.TrySetResult();
                break;
            case "session.state_updated" when message.State is "closing" or "closed":
                _closedByServer = true;
                break;
            case "agent.speak_started" when message.EventId is { } id:
                _owner.OnUtteranceStarted(id, _texts.GetValueOrDefault(id));
                break;
            case "agent.speak_ended" when message.EventId is { } id:
                _unfinished.TryRemove(id, out _);
                _texts.TryRemove(id, out var text);
                _owner.OnUtteranceEnded(id, text, interrupted: false);
                break;
            case "agent.speak_interrupted" when message.EventId is { } id:
                _unfinished.TryRemove(id, out _);
                _texts.TryRemove(id, out var cut);
                _owner.OnUtteranceEnded(id, cut, interrupted: true);
                break;
            case "error":
                LogServerError(_logger, _owner.SessionId, _provider, message.Error?.Type, message.Error?.Message);
                break;
            default:
                LogIgnoredEvent(_logger, _owner.SessionId, message.Type);
                break;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Avatar session {SessionId}: ignored a malformed LITE event ({Error}).")]
    private static partial void LogMalformedEvent(ILogger logger, string sessionId, string error);

    [LoggerMessage(Level = LogLevel.Trace, Message = "Avatar session {SessionId}: ignored LITE event '{Type}'.")]
    private static partial void LogIgnoredEvent(ILogger logger, string sessionId, string type);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Avatar session {SessionId}: {Provider} reported {ErrorType}: {Message}")]
    private static partial void LogServerError(ILogger logger, string sessionId, string provider, string? errorType, string? message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Avatar session {SessionId}: the LITE WebSocket dropped; the next speak reconnects.")]
    private static partial void LogSocketDropped(ILogger logger, string sessionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Avatar session {SessionId}: LITE WebSocket error: {Error}")]
    private static partial void LogSocketError(ILogger logger, string sessionId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Avatar session {SessionId}: reconnecting the LITE WebSocket.")]
    private static partial void LogReconnecting(ILogger logger, string sessionId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Avatar session {SessionId}: speaking utterance {EventId} failed: {Error}")]
    private static partial void LogSpeechFailed(ILogger logger, string sessionId, string eventId, string error);

    /// <summary>One utterance: its sentences (possibly still arriving) and its cancellation.</summary>
    private sealed class SpeechJob(ChannelReader<string> sentences) : IDisposable
    {
        private static long s_sequence;
        private readonly CancellationTokenSource _cancel = new();
        private readonly List<(string Sentence, TimeSpan End)> _sent = [];

        public string EventId { get; } = Guid.NewGuid().ToString();

        public ChannelReader<string> Sentences { get; } = sentences;

        public CancellationToken Token => _cancel.Token;

        public bool IsCancelled => _cancel.IsCancellationRequested;

        public long Sequence { get; } = Interlocked.Increment(ref s_sequence);

        /// <summary>Gets or sets the clock started with the first chunk: about when the avatar started to play it.</summary>
        public Stopwatch? Clock { get; set; }

        /// <summary>Gets or sets the sentence read but not completely sent yet.</summary>
        public string? Pending { get; set; }

        public void MarkSent(string sentence, TimeSpan end)
        {
            lock (_sent)
            {
                _sent.Add((sentence, end));
                Pending = null;
            }
        }

        /// <summary>The sentences not played yet, estimated from the clock: from the one playing now, then the one being sent.</summary>
        public List<string> Unplayed()
        {
            var elapsed = Clock?.Elapsed ?? TimeSpan.Zero;
            lock (_sent)
            {
                var sentences = _sent.Where(s => s.End > elapsed).Select(s => s.Sentence).ToList();
                if (Pending is { } pending)
                {
                    sentences.Add(pending);
                }

                return sentences;
            }
        }

        public void Cancel() => _cancel.Cancel();

        public void Dispose() => _cancel.Dispose();
    }
}
