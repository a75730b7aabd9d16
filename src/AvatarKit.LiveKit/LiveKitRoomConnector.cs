using AvatarKit.LiveKit.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace AvatarKit.LiveKit;

/// <summary>Joins LiveKit rooms through LiveKit's native SDK (livekit-ffi).</summary>
public sealed class LiveKitRoomConnector : IRealtimeRoomConnector
{
    private readonly LiveKitOptions _options;
    private readonly ILoggerFactory _loggerFactory;

    /// <summary>Initializes a new connector.</summary>
    /// <param name="options">Settings; defaults when null.</param>
    /// <param name="loggerFactory">Receives the connector's and the native SDK's log lines; none when null.</param>
    public LiveKitRoomConnector(IOptions<LiveKitOptions>? options = null, ILoggerFactory? loggerFactory = null)
    {
        _options = options?.Value ?? new LiveKitOptions();
        var problems = _options.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(nameof(LiveKitOptions), typeof(LiveKitOptions), problems);
        }

        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
    }

    /// <summary>Checks whether LiveKit's native library can be loaded on this machine (for <c>doctor</c>-style checks).</summary>
    /// <returns>Whether it loads, and what is wrong when it does not.</returns>
    public static LiveKitNativeStatus CheckNativeLibrary()
    {
        var loaded = LiveKitNativeLibrary.TryLoad(out var error);
        return new LiveKitNativeStatus(loaded, LiveKitNativeLibrary.RuntimeIdentifier, LiveKitNativeLibrary.LoadedPath, error);
    }

    /// <inheritdoc />
    /// <exception cref="DllNotFoundException">LiveKit's native library is not available (the message says why).</exception>
    public async Task<IRealtimeRoom> ConnectAsync(Uri url, string token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentException.ThrowIfNullOrEmpty(token);
        if (url.Scheme is not ("ws" or "wss" or "http" or "https"))
        {
            throw new ArgumentException($"A LiveKit URL starts with ws://, wss://, http:// or https://; '{url.Scheme}://' was given.", nameof(url));
        }

        var client = FfiClient.Instance;
        if (_loggerFactory is not NullLoggerFactory)
        {
            client.UseLogging(_loggerFactory);
        }

        return await LiveKitRoom.ConnectAsync(client, url, token, _options, _loggerFactory.CreateLogger<LiveKitRoom>(), cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>Whether LiveKit's native library loads here.</summary>
/// <param name="IsAvailable">Whether it loaded.</param>
/// <param name="RuntimeIdentifier">The platform looked for (e.g. <c>linux-x64</c>).</param>
/// <param name="Path">The file loaded, when found outside the runtime's own probing.</param>
/// <param name="Error">What is missing, when it did not load.</param>
public sealed record LiveKitNativeStatus(bool IsAvailable, string RuntimeIdentifier, string? Path, string? Error);
