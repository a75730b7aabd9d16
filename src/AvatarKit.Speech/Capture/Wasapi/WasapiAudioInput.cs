using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading.Channels;
using NAudio.CoreAudioApi;
using NAudio.Wave;

namespace AvatarKit.Speech.Capture.Wasapi;

/// <summary>
/// Microphone capture on Windows through WASAPI (NAudio's <see cref="WasapiRecorder"/>, shared mode,
/// event-driven, 20 ms buffers, zero-copy callbacks). Needs nothing installed: it is <see cref="Microphone"/>'s first choice on Windows.
/// </summary>
/// <remarks>
/// The device's mix format (usually 32-bit float, 48 kHz, stereo) is converted to the requested
/// format. If the reader falls behind by more than a second, the oldest frames are dropped.
/// </remarks>
[SupportedOSPlatform("windows")]
public sealed class WasapiAudioInput : IAudioInput
{
    private readonly string? _device;

    /// <summary>Initializes a new WASAPI capture.</summary>
    /// <param name="device">An endpoint ID or (part of) a name from <see cref="ListDevices"/>; the default communications microphone when null.</param>
    public WasapiAudioInput(string? device = null)
    {
        _device = device;
    }

    /// <inheritdoc />
    public string Name => $"wasapi {_device ?? "default"}";

    /// <summary>Lists the active capture endpoints.</summary>
    /// <returns>The devices; <see cref="AudioDevice.Id"/> is the endpoint ID to pass to the constructor.</returns>
    public static IReadOnlyList<AudioDevice> ListDevices()
    {
        using var enumerator = new MMDeviceEnumerator();
        return Endpoints(enumerator).Select(e => new AudioDevice(e.Id, e.IsDefault ? $"{e.Name} (default)" : e.Name, "wasapi")).ToList();
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<AudioFrame> CaptureAsync(AudioFormat format, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var enumerator = new MMDeviceEnumerator();
        var endpoint = WasapiDeviceSelection.Select(Endpoints(enumerator), _device);
        using var device = enumerator.GetDevice(endpoint.Id);
        using var recorder = new WasapiRecorderBuilder().WithDevice(device).WithSharedMode().WithEventSync().WithBufferLength(20).Build();
        var converter = new CaptureFormatConverter(recorder.WaveFormat, format);
        var frames = Channel.CreateBounded<AudioFrame>(
            new BoundedChannelOptions(50) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true },
            dropped => dropped.Dispose());
        void Emit(AudioFrame frame)
        {
            if (!frames.Writer.TryWrite(frame))
            {
                frame.Dispose();
            }
        }

        recorder.DataAvailable += (buffer, flags, _, _) =>
        {
            // A packet flagged silent must be treated as silence whatever it holds.
            if ((flags & AudioClientBufferFlags.Silent) != 0)
            {
                converter.WriteSilence(buffer.Length, Emit);
            }
            else
            {
                converter.Write(buffer, Emit);
            }
        };
        recorder.RecordingStopped += (_, e) => frames.Writer.TryComplete(
            e.Exception is null ? null : new AudioInputException($"WASAPI capture from '{endpoint.Name}' stopped: {e.Exception.Message}", e.Exception));
        try
        {
            recorder.StartRecording();
        }
        catch (COMException ex)
        {
            throw new AudioInputException($"WASAPI could not start capturing from '{endpoint.Name}' (0x{ex.HResult:X8}). Check Settings > Privacy & security > Microphone.", ex);
        }

        try
        {
            await foreach (var frame in frames.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return frame;
            }
        }
        finally
        {
            recorder.StopRecording();
            while (frames.Reader.TryRead(out var left))
            {
                left.Dispose();
            }
        }
    }

    private static List<WasapiEndpoint> Endpoints(MMDeviceEnumerator enumerator)
    {
        string? defaultId = null;
        if (enumerator.TryGetDefaultAudioEndpoint(DataFlow.Capture, Role.Communications, out var defaultDevice))
        {
            using (defaultDevice)
            {
                defaultId = defaultDevice.ID;
            }
        }

        var endpoints = new List<WasapiEndpoint>();
        foreach (var device in enumerator.EnumerateAudioEndPoints(DataFlow.Capture, DeviceState.Active))
        {
            using (device)
            {
                endpoints.Add(new WasapiEndpoint(device.ID, device.FriendlyName, device.ID == defaultId));
            }
        }

        return endpoints;
    }
}
