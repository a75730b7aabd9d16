using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http;

namespace AvatarKit.Testing.Deepgram;

/// <summary>One live <c>/v1/listen</c> WebSocket: reads audio and control messages, writes results in order.</summary>
internal sealed class ListenConnection : IEmulatedRecognitionSink, IDisposable
{
    private readonly DeepgramEmulator _owner;
    private readonly HttpContext _context;
    private readonly WebSocket _socket;
    private readonly string _requestId;
    private readonly int _number;
    private readonly Channel<Outgoing> _outbox = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly bool _drops;
    private readonly bool _closes;
    private readonly bool _declaredRaw;
    private ListenParameters _parameters;
    private EmulatedRecognizer _recognizer;
    private WavHeaderReader? _container;
    private long _lastActivity = Stopwatch.GetTimestamp();
    private long _audioBytes;
    private bool _sentMalformed;
    private bool _ended;

    public ListenConnection(DeepgramEmulator owner, HttpContext context, WebSocket socket, ListenParameters parameters, string requestId, int number)
    {
        _owner = owner;
        _context = context;
        _socket = socket;
        _parameters = parameters;
        _requestId = requestId;
        _number = number;
        _recognizer = new EmulatedRecognizer(parameters, owner, this);
        _declaredRaw = parameters.Encoding is not null;
        _container = _declaredRaw ? null : new WavHeaderReader();
        _drops = owner.Options.Faults.TakeDrop();
        _closes = !_drops && owner.Options.Faults.TakeClose();
    }

    public async Task RunAsync()
    {
        var writer = WriteLoopAsync();
        var watchdog = WatchInactivityAsync();
        try
        {
            await ReadLoopAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            _owner.Log($"listen connection {_number} read ended: {ex.GetType().Name}");
        }
        finally
        {
            _outbox.Writer.TryComplete();
            await writer.ConfigureAwait(false);
            await AwaitClientCloseAsync().ConfigureAwait(false);
            await _stop.CancelAsync().ConfigureAwait(false);
            await watchdog.ConfigureAwait(false);
        }
    }

    /// <summary>After the server's close frame, waits (briefly) for the client's, so the close frame is not cut off by ending the request.</summary>
    private async Task AwaitClientCloseAsync()
    {
        var buffer = new byte[4096];
        try
        {
            while (_socket.State == WebSocketState.CloseSent && !_stop.IsCancellationRequested)
            {
                await _socket.ReceiveAsync(buffer, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            _owner.Log($"listen connection {_number}: client did not answer the close ({ex.GetType().Name})");
        }
    }

    public void Result(EmulatedResult result) =>
        Send(DeepgramWire.Results(result, _parameters.Channels, _requestId, ModelName));

    public void SpeechStarted(double timestamp) => Send(DeepgramWire.SpeechStarted(_parameters.Channels, timestamp));

    public void UtteranceEnd(double lastWordEnd) => Send(DeepgramWire.UtteranceEnd(_parameters.Channels, lastWordEnd));

    public void Dispose() => _stop.Dispose();

    private string ModelName => _parameters.Model.StartsWith("nova-3", StringComparison.Ordinal) ? "nova-3" : _parameters.Model;

    private void Send(string json) => _outbox.Writer.TryWrite(new Outgoing(Encoding.UTF8.GetBytes(json), WebSocketMessageType.Text));

    private async Task ReadLoopAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            var message = new ArrayBufferWriter<byte>();
            while (!_ended)
            {
                message.ResetWrittenCount();
                WebSocketReceiveResult received;
                do
                {
                    received = await _socket.ReceiveAsync(buffer, _stop.Token).ConfigureAwait(false);
                    message.Write(buffer.AsSpan(0, received.Count));
                }
                while (!received.EndOfMessage && received.MessageType != WebSocketMessageType.Close);

                Volatile.Write(ref _lastActivity, Stopwatch.GetTimestamp());
                switch (received.MessageType)
                {
                    case WebSocketMessageType.Close:
                        _owner.Log($"listen connection {_number} closed by client ({received.CloseStatus})");
                        End(WebSocketCloseStatus.NormalClosure, string.Empty, metadata: false);
                        break;
                    case WebSocketMessageType.Binary:
                        OnAudio(message.WrittenSpan);
                        break;
                    default:
                        OnControl(message.WrittenSpan);
                        break;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void OnAudio(ReadOnlySpan<byte> audio)
    {
        if (audio.IsEmpty)
        {
            // The legacy end-of-stream signal.
            OnCloseStream();
            return;
        }

        if (_container is not null)
        {
            // No encoding given: Deepgram detects the container; the emulator reads a WAV header.
            switch (_container.Read(audio, out var format, out audio))
            {
                case WavHeaderStatus.NeedMore:
                    return;
                case WavHeaderStatus.Invalid:
                    _owner.Log($"listen connection {_number}: no encoding given and the audio is not PCM16 WAV");
                    End((WebSocketCloseStatus)1008, "DATA-0000", metadata: false);
                    return;
            }

            _container = null;
            _parameters = _parameters with { Encoding = "linear16", SampleRate = format.SampleRate, Channels = format.Channels };
            _recognizer = new EmulatedRecognizer(_parameters, _owner, this);
            if (audio.IsEmpty)
            {
                return;
            }
        }
        else if (_declaredRaw && audio.Length % (2 * _parameters.Channels) != 0)
        {
            // Declared raw linear16 must come in whole samples; a WAV stream may be cut anywhere.
            _owner.Log($"listen connection {_number}: undecodable audio frame of {audio.Length} bytes");
            End((WebSocketCloseStatus)1008, "DATA-0000", metadata: false);
            return;
        }

        if (!_sentMalformed)
        {
            _sentMalformed = true;
            foreach (var garbage in MalformedMessages.Create(_owner.Options.Faults.MalformedMessages))
            {
                _outbox.Writer.TryWrite(garbage);
            }
        }

        _owner.CountAudio(audio.Length);
        _audioBytes += audio.Length;
        _recognizer.Process(audio);
        var received = TimeSpan.FromSeconds((double)_audioBytes / (2 * _parameters.Channels * Math.Max(_parameters.SampleRate, 1)));
        var faults = _owner.Options.Faults;
        if (_drops && received >= faults.DropAfter)
        {
            _owner.Log($"listen connection {_number}: injected drop after {received.TotalSeconds:F2} s of audio");
            _ended = true;
            _outbox.Writer.TryWrite(Outgoing.Abort);
        }
        else if (_closes && faults.CloseAfter is { } close && received >= close.Audio)
        {
            _owner.Log($"listen connection {_number}: injected close {close.Code} {close.Reason}");
            End((WebSocketCloseStatus)close.Code, close.Reason, metadata: false);
        }
    }

    private void OnControl(ReadOnlySpan<byte> json)
    {
        string? type = null;
        try
        {
            using var document = JsonDocument.Parse(json.ToArray());
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("type", out var typeElement)
                && typeElement.ValueKind == JsonValueKind.String)
            {
                type = typeElement.GetString();
            }
        }
        catch (JsonException)
        {
        }

        switch (type)
        {
            case "KeepAlive":
                _owner.CountKeepAlive();
                break;
            case "Finalize":
                _owner.CountFinalize();
                _recognizer.Finalize(fromFinalize: true);
                break;
            case "CloseStream":
                OnCloseStream();
                break;
            default:
                _owner.Log($"listen connection {_number}: ignored text message '{Encoding.UTF8.GetString(json)}'");
                break;
        }
    }

    private void OnCloseStream()
    {
        _recognizer.Finalize(fromFinalize: false);
        End(WebSocketCloseStatus.NormalClosure, string.Empty, metadata: true);
    }

    private void End(WebSocketCloseStatus status, string reason, bool metadata)
    {
        if (_ended)
        {
            return;
        }

        _ended = true;
        if (metadata)
        {
            Send(DeepgramWire.Metadata(_requestId, _recognizer.AudioSeconds, _parameters.Channels));
        }

        _outbox.Writer.TryWrite(new Outgoing(status, reason));
    }

    private async Task WatchInactivityAsync()
    {
        try
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                if (!_ended && Stopwatch.GetElapsedTime(Volatile.Read(ref _lastActivity)) > _owner.Options.InactivityTimeout)
                {
                    _owner.Log($"listen connection {_number}: no audio for {_owner.Options.InactivityTimeout.TotalSeconds:F1} s, closing 1011 NET-0001");
                    _ended = true;
                    _outbox.Writer.TryWrite(new Outgoing((WebSocketCloseStatus)1011, "NET-0001"));
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task WriteLoopAsync()
    {
        try
        {
            await foreach (var message in _outbox.Reader.ReadAllAsync(_context.RequestAborted).ConfigureAwait(false))
            {
                if (_owner.Options.Faults.ResultDelay > TimeSpan.Zero && message.Payload is not null)
                {
                    await Task.Delay(_owner.Options.Faults.ResultDelay, _context.RequestAborted).ConfigureAwait(false);
                }

                if (message.IsAbort)
                {
                    // Let what was already written reach the client first: the drop happens between messages.
                    await Task.Delay(100, _context.RequestAborted).ConfigureAwait(false);
                    _context.Abort();
                    break;
                }

                if (message.CloseStatus is { } status)
                {
                    await _socket.CloseOutputAsync(status, message.CloseReason, _context.RequestAborted).ConfigureAwait(false);

                    // The reader ends when the client answers the close; cancelling it at once would abort
                    // the socket before the close frame is out.
                    _stop.CancelAfter(TimeSpan.FromSeconds(2));
                    break;
                }

                await _socket.SendAsync(message.Payload.AsMemory(), message.Type, endOfMessage: true, _context.RequestAborted).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            _owner.Log($"listen connection {_number} write ended: {ex.GetType().Name}");
        }
    }

    /// <summary>A server message: payload, close, or a connection drop.</summary>
    internal sealed class Outgoing
    {
        public Outgoing(byte[] payload, WebSocketMessageType type)
        {
            Payload = payload;
            Type = type;
        }

        public Outgoing(WebSocketCloseStatus status, string reason)
        {
            CloseStatus = status;
            CloseReason = reason;
        }

        private Outgoing()
        {
            IsAbort = true;
        }

        public static Outgoing Abort { get; } = new();

        public byte[]? Payload { get; }

        public WebSocketMessageType Type { get; }

        public WebSocketCloseStatus? CloseStatus { get; }

        public string? CloseReason { get; }

        public bool IsAbort { get; }
    }
}
