using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace AvatarKit.Speech.Deepgram;

/// <summary>
/// One live transcription: a sender (audio → binary frames), a keep-alive timer and a receiver
/// (JSON → updates) around one WebSocket, which the receiver re-dials when it drops.
/// </summary>
/// <remarks>
/// Reconnects re-send the audio since the last final result (the replay buffer), and Deepgram's
/// connection-relative times are shifted by where that audio starts in the stream, so times stay
/// monotonic and no utterance is lost or reported twice.
/// </remarks>
internal sealed class ListenSession
{
    private const int MaxMessageBytes = 1 << 20;
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);
    private readonly Uri _url;
    private readonly string _apiKey;
    private readonly string _model;
    private readonly AudioFormat _format;
    private readonly DeepgramListenOptions _listen;
    private readonly ILogger _logger;
    private AudioSendPath? _send;
    private long _connectionStart;
    private TimeSpan _floor;
    private int _reconnects;
    private int _reconnectsWithoutProgress;
    private TimeSpan _lastInterimEnd;
    private TimeSpan? _lastSpeechStart;
    private TimeSpan _echoUntil;
    private TimeSpan? _echoSpeechStart;
    private string? _requestId;

    public ListenSession(Uri url, string apiKey, string model, AudioFormat format, DeepgramListenOptions listen, ILogger logger)
    {
        _url = url;
        _apiKey = apiKey;
        _model = model;
        _format = format;
        _listen = listen;
        _logger = logger;
    }

    public async IAsyncEnumerable<SpeechToTextResponseUpdate> RunAsync(IAsyncEnumerable<AudioFrame> audio, DeepgramListenController? controller, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var socket = await ConnectWithRetryAsync(cancellationToken).ConfigureAwait(false);
        using var replay = new ReplayBuffer(_format.BytesPerSecond * 2, _format.GetByteCount(_listen.ReplayBufferLimit), _format.BlockAlign);
        using var send = new AudioSendPath(socket, replay);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _send = send;
        controller?.Attach(this);
        var updates = Channel.CreateUnbounded<SpeechToTextResponseUpdate>(new UnboundedChannelOptions { SingleReader = true });
        var receiver = ReceiveAsync(updates.Writer, stop.Token);
        var sender = PumpAsync(audio, updates.Writer, stop.Token);
        var keepAlive = KeepAliveAsync(stop.Token);
        try
        {
            yield return NewUpdate(SpeechToTextResponseUpdateKind.SessionOpen, string.Empty);
            await foreach (var update in updates.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return update;
            }
        }
        finally
        {
            controller?.Detach(this);
            await stop.CancelAsync().ConfigureAwait(false);
            send.Socket.Abort();
            await Task.WhenAll(receiver, sender, keepAlive).ConfigureAwait(false);
        }
    }

    public Task FinalizeAsync(CancellationToken cancellationToken) =>
        (_send ?? throw new InvalidOperationException("The transcription has not connected yet.")).SendFinalizeAsync(cancellationToken).AsTask();

    private async Task PumpAsync(IAsyncEnumerable<AudioFrame> audio, ChannelWriter<SpeechToTextResponseUpdate> updates, CancellationToken cancellationToken)
    {
        var send = _send!;
        try
        {
            await foreach (var frame in audio.WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                using (frame)
                {
                    if (frame.Format == _format)
                    {
                        await send.SendAudioAsync(frame.Memory, cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        using var converted = AudioConversion.Convert(frame, _format);
                        await send.SendAudioAsync(converted.Memory, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            await send.SendCloseStreamAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // The audio source failed: end the transcription with its error.
            updates.TryComplete(ex);
        }
    }

    private async Task KeepAliveAsync(CancellationToken cancellationToken)
    {
        var interval = _listen.KeepAliveInterval;
        var lastKeepAlive = Stopwatch.GetTimestamp();
        try
        {
            using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Min(interval.Ticks / 4, TimeSpan.TicksPerSecond / 4)));
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                if (_send!.SinceLastAudio >= interval && Stopwatch.GetElapsedTime(lastKeepAlive) >= interval)
                {
                    await _send.SendKeepAliveAsync(cancellationToken).ConfigureAwait(false);
                    lastKeepAlive = Stopwatch.GetTimestamp();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task ReceiveAsync(ChannelWriter<SpeechToTextResponseUpdate> updates, CancellationToken cancellationToken)
    {
        var message = new ArrayBufferWriter<byte>(16 * 1024);
        try
        {
            while (true)
            {
                var socket = _send!.Socket;
                ValueWebSocketReceiveResult received;
                message.ResetWrittenCount();
                try
                {
                    do
                    {
                        received = await socket.ReceiveAsync(message.GetMemory(4096), cancellationToken).ConfigureAwait(false);
                        if (message.WrittenCount + received.Count <= MaxMessageBytes)
                        {
                            message.Advance(received.Count);
                        }
                    }
                    while (!received.EndOfMessage);
                }
                catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    // An aborted socket reports OperationCanceledException although nobody cancelled.
                    await ReconnectAsync(ex.Message, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (received.MessageType == WebSocketMessageType.Close)
                {
                    var code = (int?)socket.CloseStatus ?? 1005;
                    var reason = socket.CloseStatusDescription;
                    DeepgramLog.Closed(_logger, code, reason);
                    if (code == (int)WebSocketCloseStatus.NormalClosure)
                    {
                        await CloseQuietlyAsync(socket).ConfigureAwait(false);
                        updates.TryComplete();
                        return;
                    }

                    if (IsRecoverable(code, reason))
                    {
                        await ReconnectAsync($"closed {code} {reason}", cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    await CloseQuietlyAsync(socket).ConfigureAwait(false);
                    updates.TryComplete(CloseException(code, reason));
                    return;
                }

                if (received.MessageType == WebSocketMessageType.Binary || message.WrittenCount >= MaxMessageBytes)
                {
                    DeepgramLog.Malformed(_logger, message.WrittenCount, received.MessageType == WebSocketMessageType.Binary ? "unexpected binary frame" : "message too large");
                    continue;
                }

                var parsed = ListenMessage.TryParse(message.WrittenMemory, out var problem);
                if (parsed is null)
                {
                    DeepgramLog.Malformed(_logger, message.WrittenCount, problem);
                    continue;
                }

                if (ToUpdate(parsed) is { } update)
                {
                    updates.TryWrite(update);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            updates.TryComplete();
        }
        catch (Exception ex)
        {
            updates.TryComplete(ex);
        }
    }

    private static bool IsRecoverable(int code, string? reason) =>
        code is 1001 or 1006 or 1012 or 1013 || (code == 1011 && reason != "NET-0001");

    private static DeepgramException CloseException(int code, string? reason)
    {
        var message = (code, reason) switch
        {
            (1011, "NET-0001") => "Deepgram closed the stream because it received no audio and no KeepAlive for 10 s (1011 NET-0001).",
            (1008 or 1002, "DATA-0000") or (1002, _) => $"Deepgram could not decode the audio ({code} {reason}); check that Listen.Encoding, SampleRate and Channels match the audio sent.",
            (1008, _) => $"Deepgram closed the stream for a policy reason ({code} {reason}): concurrency, billing or permissions.",
            _ => $"Deepgram closed the stream unexpectedly ({code} {reason}).",
        };
        return new DeepgramException(message) { CloseCode = code, CloseReason = reason };
    }

    private async Task<WebSocket> ConnectWithRetryAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                var socket = await DeepgramTransport.ConnectAsync(_url, _apiKey, cancellationToken).ConfigureAwait(false);
                _requestId = socket.HttpResponseHeaders?.TryGetValue("dg-request-id", out var ids) == true ? ids.FirstOrDefault() : null;
                DeepgramLog.Connected(_logger, _url.Authority, _requestId);
                return socket;
            }
            catch (DeepgramException ex) when (DeepgramTransport.IsTransient(ex) && attempt < _listen.MaxReconnectAttempts)
            {
                var delay = Backoff(attempt, ex.RetryAfter);
                DeepgramLog.HandshakeRetry(_logger, (int?)ex.StatusCode ?? 0, delay.TotalMilliseconds);
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static TimeSpan Backoff(int attempt, TimeSpan? retryAfter)
    {
        var delay = TimeSpan.FromMilliseconds(100 * (1 << Math.Min(attempt, 4)));
        if (retryAfter is { } asked && asked > delay)
        {
            delay = asked;
        }

        // Reconnecting quickly matters more than politeness: a live user is talking.
        return delay > MaxBackoff ? MaxBackoff : delay;
    }

    private async Task ReconnectAsync(string reason, CancellationToken cancellationToken)
    {
        var send = _send!;
        if (++_reconnectsWithoutProgress > _listen.MaxReconnectAttempts)
        {
            // Redialling forever would re-send the same audio forever; give up once no result came between drops.
            throw new DeepgramException($"The Deepgram connection was lost ({reason}) {_reconnectsWithoutProgress} times without a result in between; giving up.");
        }

        var started = Stopwatch.GetTimestamp();
        var pending = send.Replay.EndPosition - send.Replay.StartPosition;
        DeepgramLog.Reconnecting(_logger, reason, _format.GetDuration((int)Math.Min(pending, int.MaxValue)).TotalSeconds);
        try
        {
            _connectionStart = await send.ReconnectAsync(ConnectWithRetryAsync, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is DeepgramException or WebSocketException or IOException)
        {
            throw new DeepgramException($"The Deepgram connection was lost ({reason}) and could not be re-established: {ex.Message}", ex);
        }

        _reconnects++;

        // The re-sent audio makes the new connection repeat the speech start and interim results
        // already delivered; those echoes are dropped so nothing is reported twice or goes back in time.
        _echoUntil = _lastInterimEnd;
        _echoSpeechStart = _lastSpeechStart;
        DeepgramLog.Reconnected(_logger, Stopwatch.GetElapsedTime(started).TotalMilliseconds, _reconnects);
    }

    private static async Task CloseQuietlyAsync(WebSocket socket)
    {
        try
        {
            if (socket.State == WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
        {
            // The server is gone already; nothing to tell it.
        }
    }

    /// <summary>Maps a message to an update; null for an echo of one delivered before a reconnect.</summary>
    private SpeechToTextResponseUpdate? ToUpdate(ListenMessage message)
    {
        var offset = _format.GetDuration((int)Math.Min(_connectionStart, int.MaxValue));
        switch (message.Type)
        {
            case ListenMessage.SpeechStarted:
                var started = NewUpdate(DeepgramSpeechUpdateKinds.SpeechStarted, string.Empty);
                started.StartTime = Max(offset + TimeSpan.FromSeconds(message.Timestamp), _floor);
                if (started.StartTime <= _echoSpeechStart)
                {
                    return null;
                }

                _lastSpeechStart = started.StartTime;
                return started;
            case ListenMessage.UtteranceEnd:
                var ended = NewUpdate(DeepgramSpeechUpdateKinds.UtteranceEnd, string.Empty);
                ended.EndTime = offset + TimeSpan.FromSeconds(message.Timestamp);
                return ended;
            case ListenMessage.Metadata:
                var closing = NewUpdate(SpeechToTextResponseUpdateKind.SessionClose, string.Empty);
                closing.ResponseId = message.RequestId ?? _requestId;
                return closing;
        }

        var start = Max(offset + TimeSpan.FromSeconds(message.Start), _floor);
        var end = Max(offset + TimeSpan.FromSeconds(message.Start + message.Duration), start);
        if (!message.IsFinal)
        {
            if (end <= _echoUntil)
            {
                return null;
            }

            _lastInterimEnd = end;
        }

        var words = new DeepgramWord[message.Words.Count];
        for (var i = 0; i < words.Length; i++)
        {
            var w = message.Words[i];
            words[i] = new DeepgramWord(w.Word, w.PunctuatedWord, offset + TimeSpan.FromSeconds(w.Start), offset + TimeSpan.FromSeconds(w.End), w.Confidence, w.Speaker);
        }

        var update = NewUpdate(message.IsFinal ? SpeechToTextResponseUpdateKind.TextUpdated : SpeechToTextResponseUpdateKind.TextUpdating, message.Transcript);
        update.StartTime = start;
        update.EndTime = end;
        update.ResponseId = message.RequestId ?? _requestId;
        update.RawRepresentation = message;
        update.AdditionalProperties![DeepgramSpeechProperties.IsFinal] = message.IsFinal;
        update.AdditionalProperties[DeepgramSpeechProperties.SpeechFinal] = message.SpeechFinal;
        update.AdditionalProperties[DeepgramSpeechProperties.FromFinalize] = message.FromFinalize;
        update.AdditionalProperties[DeepgramSpeechProperties.Confidence] = message.Confidence;
        update.AdditionalProperties[DeepgramSpeechProperties.Words] = words;
        if (message.IsFinal)
        {
            _reconnectsWithoutProgress = 0;
            _floor = end;
            _echoUntil = TimeSpan.Zero;
            _echoSpeechStart = null;
            _send!.Replay.TrimTo(_connectionStart + _format.GetByteCount(TimeSpan.FromSeconds(message.Start + message.Duration)));
        }

        return update;
    }

    private SpeechToTextResponseUpdate NewUpdate(SpeechToTextResponseUpdateKind kind, string text) => new(text)
    {
        Kind = kind,
        ModelId = _model,
        ResponseId = _requestId,
        AdditionalProperties = new()
        {
            [DeepgramSpeechProperties.RequestId] = _requestId,
            [DeepgramSpeechProperties.Reconnects] = _reconnects,
        },
    };

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
