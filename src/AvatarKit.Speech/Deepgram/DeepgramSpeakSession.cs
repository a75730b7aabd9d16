using System.Buffers;
using System.Net.WebSockets;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace AvatarKit.Speech.Deepgram;

/// <summary>
/// An open Aura speak WebSocket. Send text with <see cref="SpeakAsync"/>, ask for its audio with
/// <see cref="FlushAsync"/>, drop pending audio with <see cref="ClearAsync"/> (barge-in), and read
/// audio and acknowledgements with <see cref="ReadUpdatesAsync"/> (one reader at a time).
/// </summary>
/// <remarks>
/// Updates: <see cref="TextToSpeechResponseUpdateKind.SessionOpen"/> (Deepgram's metadata),
/// <see cref="TextToSpeechResponseUpdateKind.AudioUpdating"/> (PCM16 chunks as they arrive),
/// <see cref="TextToSpeechResponseUpdateKind.AudioUpdated"/> when a flush's audio is complete
/// (<see cref="SequenceIdKey"/> in the additional properties), <see cref="Cleared"/> after a clear,
/// <see cref="Warning"/> for Deepgram's warnings. Sends may be called concurrently with reading.
/// </remarks>
public sealed class DeepgramSpeakSession : IAsyncDisposable
{
    /// <summary>The key of a flush's or clear's sequence number in the additional properties.</summary>
    public const string SequenceIdKey = "deepgram.sequence_id";

    private readonly WebSocket _socket;
    private readonly string _mediaType;
    private readonly string _model;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    internal DeepgramSpeakSession(WebSocket socket, string mediaType, string model, ILogger logger)
    {
        _socket = socket;
        _mediaType = mediaType;
        _model = model;
        _logger = logger;
    }

    /// <summary>Gets the kind of the update that confirms a <see cref="ClearAsync"/>.</summary>
    public static TextToSpeechResponseUpdateKind Cleared { get; } = new("deepgram.cleared");

    /// <summary>Gets the kind of a Deepgram warning (the text is its description).</summary>
    public static TextToSpeechResponseUpdateKind Warning { get; } = new("deepgram.warning");

    /// <summary>Appends text to be spoken at the next flush.</summary>
    /// <param name="text">The text.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when sent.</returns>
    public Task SpeakAsync(string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        return SendAsync(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["type"] = "Speak", ["text"] = text }), cancellationToken);
    }

    /// <summary>Synthesizes everything sent since the last flush.</summary>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when sent.</returns>
    public Task FlushAsync(CancellationToken cancellationToken = default) => SendAsync("""{"type":"Flush"}"""u8.ToArray(), cancellationToken);

    /// <summary>Drops buffered text and audio not yet sent (barge-in).</summary>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when sent.</returns>
    public Task ClearAsync(CancellationToken cancellationToken = default) => SendAsync("""{"type":"Clear"}"""u8.ToArray(), cancellationToken);

    /// <summary>Asks Deepgram to finish pending audio and close; <see cref="ReadUpdatesAsync"/> then ends.</summary>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when sent.</returns>
    public Task CloseAsync(CancellationToken cancellationToken = default) => SendAsync("""{"type":"Close"}"""u8.ToArray(), cancellationToken);

    /// <summary>Reads audio and acknowledgements until the socket closes.</summary>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <returns>The updates.</returns>
    /// <exception cref="DeepgramException">The socket closed with an error.</exception>
    public async IAsyncEnumerable<TextToSpeechResponseUpdate> ReadUpdatesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var message = new ArrayBufferWriter<byte>(16 * 1024);
        while (true)
        {
            message.ResetWrittenCount();
            ValueWebSocketReceiveResult received;
            do
            {
                received = await _socket.ReceiveAsync(message.GetMemory(16 * 1024), cancellationToken).ConfigureAwait(false);
                message.Advance(received.Count);
            }
            while (!received.EndOfMessage);

            if (received.MessageType == WebSocketMessageType.Close)
            {
                if (_socket.CloseStatus is { } status && status != WebSocketCloseStatus.NormalClosure)
                {
                    throw new DeepgramException($"Deepgram closed the speak socket ({(int)status} {_socket.CloseStatusDescription}).") { CloseCode = (int)status, CloseReason = _socket.CloseStatusDescription };
                }

                yield break;
            }

            if (received.MessageType == WebSocketMessageType.Binary)
            {
                var length = message.WrittenCount & ~1;
                if (length > 0)
                {
                    yield return new TextToSpeechResponseUpdate([new DataContent(message.WrittenSpan[..length].ToArray(), _mediaType)])
                    {
                        Kind = TextToSpeechResponseUpdateKind.AudioUpdating,
                        ModelId = _model,
                    };
                }

                continue;
            }

            if (ToUpdate(message.WrittenMemory) is { } update)
            {
                yield return update;
            }
        }
    }

    /// <summary>Closes the socket (without waiting for pending audio).</summary>
    /// <returns>A task that completes when closed.</returns>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, string.Empty, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
        {
            // Already gone.
        }

        _socket.Dispose();
        _sendLock.Dispose();
    }

    private TextToSpeechResponseUpdate? ToUpdate(ReadOnlyMemory<byte> json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            string? Text(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            int? Sequence() => root.TryGetProperty("sequence_id", out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? n : null;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var update = Text("type") switch
            {
                "Metadata" => new TextToSpeechResponseUpdate { Kind = TextToSpeechResponseUpdateKind.SessionOpen, ResponseId = Text("request_id") },
                "Flushed" => new TextToSpeechResponseUpdate { Kind = TextToSpeechResponseUpdateKind.AudioUpdated, AdditionalProperties = new() { [SequenceIdKey] = Sequence() } },
                "Cleared" => new TextToSpeechResponseUpdate { Kind = Cleared, AdditionalProperties = new() { [SequenceIdKey] = Sequence() } },
                "Warning" => new TextToSpeechResponseUpdate([new TextContent(Text("description"))]) { Kind = Warning, AdditionalProperties = new() { ["deepgram.code"] = Text("code") } },
                _ => null,
            };
            if (update?.Kind == Warning)
            {
                DeepgramLog.SpeakWarning(_logger, Text("code"), Text("description"));
            }

            if (update is not null)
            {
                update.ModelId = _model;
            }

            return update;
        }
        catch (JsonException ex)
        {
            DeepgramLog.Malformed(_logger, json.Length, ex.Message);
            return null;
        }
    }

    private async Task SendAsync(byte[] message, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }
}
