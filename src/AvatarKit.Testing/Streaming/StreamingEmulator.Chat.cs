using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace AvatarKit.Testing.Streaming;

/// <summary>
/// The voice-chat WebSocket (<c>/v1/ws/streaming.chat</c>, spec §5.3) the official SDK opens after
/// joining the room: binary protobuf <c>pipecat.Frame</c> messages carrying the user's text (a "talk"
/// task, answered in the room like <c>streaming.task</c>) or microphone audio (ignored: the emulator
/// has no speech recognition).
/// </summary>
public sealed partial class StreamingEmulator
{
    private const int MaxChatFrame = 1024 * 1024;

    private async Task ChatSocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        // The SDK puts its token in the URL unencoded: a '+' of the base64 token arrives as a space.
        var token = context.Request.Query["session_token"].ToString().Replace(' ', '+');
        if (!_tokens.ContainsKey(token))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        if (!_sessions.TryGetValue(context.Request.Query["session_id"].ToString(), out var session) || session.HasEnded)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync().ConfigureAwait(false);

        // When the session ends, the server closes the socket (a close handshake, not an abort).
        using var closeOnEnd = session.Lifetime.Token.Register(() => _ = CloseQuietlyAsync(socket, "session closed"));
        var buffer = new ArrayBufferWriter<byte>();
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.GetMemory(4096), context.RequestAborted).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    if (socket.State == WebSocketState.CloseReceived)
                    {
                        await CloseQuietlyAsync(socket, null).ConfigureAwait(false);
                    }

                    return;
                }

                buffer.Advance(result.Count);
                if (buffer.WrittenCount > MaxChatFrame)
                {
                    await CloseQuietlyAsync(socket, "frame too large", WebSocketCloseStatus.MessageTooBig).ConfigureAwait(false);
                    return;
                }

                if (!result.EndOfMessage)
                {
                    continue;
                }

                session.Touch();
                if (result.MessageType == WebSocketMessageType.Binary && PipecatFrame.TryReadText(buffer.WrittenSpan, out var text) && text.Length > 0 && session.Status == "connected")
                {
                    _ = SpeakAsync(session, text, "talk");
                }

                buffer.ResetWrittenCount();
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The client went away.
        }
    }

    private static async Task CloseQuietlyAsync(WebSocket socket, string? reason, WebSocketCloseStatus status = WebSocketCloseStatus.NormalClosure)
    {
        try
        {
            await socket.CloseOutputAsync(status, reason, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or InvalidOperationException or ObjectDisposedException)
        {
            // Already closing or gone.
        }
    }

    /// <summary>
    /// Reads the official SDK's <c>pipecat.Frame</c> (its own protobuf descriptor): <c>oneof frame { TextFrame text = 1;
    /// AudioRawFrame audio = 2; TranscriptionFrame transcription = 3; }</c>, <c>TextFrame { uint64 id = 1; string name = 2; string text = 3; }</c>.
    /// </summary>
    internal static class PipecatFrame
    {
        /// <summary>Returns the text of a text frame; false for audio, transcription or malformed frames.</summary>
        public static bool TryReadText(ReadOnlySpan<byte> frame, out string text)
        {
            text = string.Empty;
            if (!TryReadField(frame, 1, out var textFrame) || !TryReadField(textFrame, 3, out var utf8))
            {
                return false;
            }

            text = Encoding.UTF8.GetString(utf8);
            return true;
        }

        // The length-delimited field `number` of a protobuf message (the last one wins, as protobuf merges).
        private static bool TryReadField(ReadOnlySpan<byte> message, int number, out ReadOnlySpan<byte> value)
        {
            value = default;
            var found = false;
            while (!message.IsEmpty)
            {
                if (!TryReadVarint(ref message, out var key))
                {
                    return false;
                }

                switch (key & 7)
                {
                    case 0 when TryReadVarint(ref message, out _):
                        break;
                    case 1 when message.Length >= 8:
                        message = message[8..];
                        break;
                    case 5 when message.Length >= 4:
                        message = message[4..];
                        break;
                    case 2 when TryReadVarint(ref message, out var length) && length <= (ulong)message.Length:
                        if ((int)(key >> 3) == number)
                        {
                            value = message[..(int)length];
                            found = true;
                        }

                        message = message[(int)length..];
                        break;
                    default:
                        return false;
                }
            }

            return found;
        }

        private static bool TryReadVarint(ref ReadOnlySpan<byte> data, out ulong value)
        {
            value = 0;
            for (var i = 0; i < 10 && i < data.Length; i++)
            {
                value |= (ulong)(data[i] & 0x7F) << (7 * i);
                if (data[i] < 0x80)
                {
                    data = data[(i + 1)..];
                    return true;
                }
            }

            return false;
        }
    }
}
