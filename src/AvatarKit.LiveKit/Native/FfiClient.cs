using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using LiveKit.Proto;
using Microsoft.Extensions.Logging;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;
using ProtoLogLevel = LiveKit.Proto.LogLevel;
using Microsoft.Extensions.Logging.Abstractions;

namespace AvatarKit.LiveKit.Native;

/// <summary>Receives the events of one room or stream, on the dispatcher thread.</summary>
internal interface IFfiEventSink
{
    /// <summary>Handles one event; must not block and must drop the owned handles it does not keep.</summary>
    /// <param name="ffiEvent">The event.</param>
    void OnEvent(FfiEvent ffiEvent);
}

/// <summary>
/// The process-wide connection to LiveKit's FFI server: requests, async callbacks by
/// <c>async_id</c>, and event routing to rooms and streams.
/// </summary>
/// <remarks>
/// The native callback only copies the event bytes into a pooled buffer and queues them, so the
/// native thread is never blocked by .NET code; one dispatcher task parses and routes them.
/// </remarks>
internal sealed partial class FfiClient
{
    private const string SdkName = "avatarkit-dotnet";

    private static readonly Lazy<FfiClient> Shared = new(() => new FfiClient(), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Channel<RawEvent> Events = Channel.CreateUnbounded<RawEvent>(new UnboundedChannelOptions { SingleReader = true });

    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<FfiEvent>> _pending = new();
    private readonly ConcurrentDictionary<ulong, IFfiEventSink> _sinks = new();
    private long _nextAsyncId;
    private int _disposed;
    private volatile ILogger _nativeLogger = NullLogger.Instance;
    private volatile ILogger _logger = NullLogger.Instance;

    private unsafe FfiClient()
    {
        LiveKitNativeLibrary.EnsureLoaded();
        var version = typeof(FfiClient).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        NativeMethods.Initialize(&OnNativeEvent, captureLogs: true, SdkName, version);
        _ = Task.Factory.StartNew(DispatchAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Shutdown();
    }

    /// <summary>Gets the process-wide client, initializing the native library on first use.</summary>
    /// <exception cref="DllNotFoundException">The native library cannot be loaded.</exception>
    internal static FfiClient Instance => Shared.Value;

    /// <summary>Gets the number of async requests waiting for their callback.</summary>
    internal int PendingCount => _pending.Count;

    /// <summary>Routes native log records and client diagnostics to loggers of <paramref name="loggerFactory"/>.</summary>
    /// <param name="loggerFactory">The factory.</param>
    internal void UseLogging(ILoggerFactory loggerFactory)
    {
        _nativeLogger = loggerFactory.CreateLogger("AvatarKit.LiveKit.Native");
        _logger = loggerFactory.CreateLogger<FfiClient>();
    }

    /// <summary>Sends a request and returns the immediate response.</summary>
    /// <param name="request">The request.</param>
    /// <returns>The response.</returns>
    /// <exception cref="LiveKitException">The FFI server rejected the request (the reason is in the native log).</exception>
    internal unsafe FfiResponse Request(FfiRequest request)
    {
        var size = request.CalculateSize();
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
        try
        {
            request.WriteTo(buffer.AsSpan(0, size));
            byte* response;
            nuint responseLength;
            ulong id;
            fixed (byte* data = buffer)
            {
                id = NativeMethods.Request(data, (nuint)size, &response, &responseLength);
            }

            if (id == 0)
            {
                throw new LiveKitException($"LiveKit's native library rejected the {request.MessageCase} request (see the AvatarKit.LiveKit.Native log for the reason).");
            }

            try
            {
                return FfiResponse.Parser.ParseFrom(new ReadOnlySpan<byte>(response, checked((int)responseLength)));
            }
            finally
            {
                NativeMethods.DropHandle(id);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reserves an async id and registers its completion before the request is sent.</summary>
    /// <returns>The id to put in the request and the task its callback completes.</returns>
    internal (ulong AsyncId, Task<FfiEvent> Callback) RegisterCallback()
    {
        var id = (ulong)Interlocked.Increment(ref _nextAsyncId);
        var completion = new TaskCompletionSource<FfiEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = completion;
        return (id, completion.Task);
    }

    /// <summary>Forgets a callback nobody waits for any more; its event's handles will be dropped on arrival.</summary>
    /// <param name="asyncId">The id.</param>
    internal void AbandonCallback(ulong asyncId) => _pending.TryRemove(asyncId, out _);

    /// <summary>Sends an async request and waits for its callback.</summary>
    /// <param name="build">Builds the request with the reserved async id.</param>
    /// <param name="cancellationToken">Stops waiting (the native operation may still complete).</param>
    /// <returns>The callback event.</returns>
    internal async Task<FfiEvent> RequestAsync(Func<ulong, FfiRequest> build, CancellationToken cancellationToken)
    {
        var (asyncId, callback) = RegisterCallback();
        try
        {
            Request(build(asyncId));
            return await callback.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            AbandonCallback(asyncId);
            throw;
        }
    }

    /// <summary>Routes the events of a room or stream handle to <paramref name="sink"/>.</summary>
    /// <param name="handleId">The room or stream handle id.</param>
    /// <param name="sink">The receiver.</param>
    internal void Subscribe(ulong handleId, IFfiEventSink sink) => _sinks[handleId] = sink;

    /// <summary>Stops routing events of a handle; later events have their handles dropped.</summary>
    /// <param name="handleId">The handle id.</param>
    internal void Unsubscribe(ulong handleId) => _sinks.TryRemove(handleId, out _);

    /// <summary>Drops every owned handle inside a message we do not keep (recursively).</summary>
    /// <param name="message">The message.</param>
    internal static void DropOwnedHandles(IMessage? message) => VisitOwnedHandles(message, FfiHandle.Drop);

    /// <summary>Calls <paramref name="visit"/> for every owned handle inside a message (recursively).</summary>
    /// <param name="message">The message.</param>
    /// <param name="visit">Receives each handle.</param>
    internal static void VisitOwnedHandles(IMessage? message, Action<FfiOwnedHandle> visit)
    {
        if (message is null)
        {
            return;
        }

        if (message is FfiOwnedHandle owned)
        {
            visit(owned);
            return;
        }

        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            if (field.FieldType != FieldType.Message || field.IsMap)
            {
                continue;
            }

            var value = field.Accessor.GetValue(message);
            if (field.IsRepeated)
            {
                foreach (var item in (System.Collections.IList)value)
                {
                    VisitOwnedHandles(item as IMessage, visit);
                }
            }
            else if (field.ContainingOneof is null || field.Accessor.HasValue(message))
            {
                VisitOwnedHandles(value as IMessage, visit);
            }
        }
    }

    [UnmanagedCallersOnly]
    private static unsafe void OnNativeEvent(byte* data, nuint length)
    {
        // Runs on a native thread: copy and queue, nothing else (never block, never re-enter the FFI).
        var size = (int)length;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(size, 1));
        new ReadOnlySpan<byte>(data, size).CopyTo(buffer);
        if (!Events.Writer.TryWrite(new RawEvent(buffer, size)))
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task DispatchAsync()
    {
        await foreach (var raw in Events.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                Route(FfiEvent.Parser.ParseFrom(raw.Buffer, 0, raw.Length));
            }
            catch (Exception ex)
            {
                LogDispatchFailed(_logger, ex);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(raw.Buffer);
            }
        }
    }

    private void Route(FfiEvent ffiEvent)
    {
        switch (ffiEvent.MessageCase)
        {
            case FfiEvent.MessageOneofCase.Logs:
                foreach (var record in ffiEvent.Logs.Records)
                {
                    var level = ToLogLevel(record.Level);
                    if (_nativeLogger.IsEnabled(level))
                    {
                        LogNative(_nativeLogger, level, record.Target, record.Message);
                    }
                }

                return;
            case FfiEvent.MessageOneofCase.Panic:
                LogNativePanic(_nativeLogger, ffiEvent.Panic.Message);
                return;
            case FfiEvent.MessageOneofCase.RoomEvent:
                RouteToSink(ffiEvent.RoomEvent.RoomHandle, ffiEvent);
                return;
            case FfiEvent.MessageOneofCase.VideoStreamEvent:
                RouteToSink(ffiEvent.VideoStreamEvent.StreamHandle, ffiEvent);
                return;
            case FfiEvent.MessageOneofCase.AudioStreamEvent:
                RouteToSink(ffiEvent.AudioStreamEvent.StreamHandle, ffiEvent);
                return;
        }

        // Every other event is the callback of an async request: complete its waiter.
        var inner = FfiEvent.Descriptor.FindFieldByNumber((int)ffiEvent.MessageCase)?.Accessor.GetValue(ffiEvent) as IMessage;
        var asyncIdField = inner?.Descriptor.FindFieldByName("async_id");
        if (asyncIdField is not null && _pending.TryRemove((ulong)asyncIdField.Accessor.GetValue(inner), out var waiter))
        {
            waiter.TrySetResult(ffiEvent);
            return;
        }

        DropOwnedHandles(ffiEvent);
    }

    private void RouteToSink(ulong handleId, FfiEvent ffiEvent)
    {
        if (_sinks.TryGetValue(handleId, out var sink))
        {
            sink.OnEvent(ffiEvent);
        }
        else
        {
            DropOwnedHandles(ffiEvent);
        }
    }

    private void Shutdown()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // livekit_ffi_dispose closes the rooms (a leave to each server); never let it hold up exit.
        var dispose = new Thread(() => NativeMethods.Dispose()) { IsBackground = true, Name = "livekit-ffi-dispose" };
        dispose.Start();
        dispose.Join(TimeSpan.FromSeconds(2));
    }

    private static LogLevel ToLogLevel(ProtoLogLevel level) => level switch
    {
        ProtoLogLevel.LogError => LogLevel.Error,
        ProtoLogLevel.LogWarn => LogLevel.Warning,
        ProtoLogLevel.LogInfo => LogLevel.Information,
        ProtoLogLevel.LogDebug => LogLevel.Debug,
        _ => LogLevel.Trace,
    };

    [LoggerMessage(EventId = 1, Message = "{Target}: {NativeMessage}")]
    private static partial void LogNative(ILogger logger, LogLevel level, string target, string nativeMessage);

    [LoggerMessage(EventId = 2, Level = LogLevel.Critical, Message = "LiveKit's native library panicked: {NativeMessage}")]
    private static partial void LogNativePanic(ILogger logger, string nativeMessage);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "A LiveKit event could not be handled")]
    private static partial void LogDispatchFailed(ILogger logger, Exception exception);

    private readonly record struct RawEvent(byte[] Buffer, int Length);
}
