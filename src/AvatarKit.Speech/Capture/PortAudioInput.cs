using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;

namespace AvatarKit.Speech.Capture;

/// <summary>
/// Microphone capture through PortAudio (the native <c>libportaudio</c>, loaded when present:
/// <c>libportaudio2</c> on Debian/Ubuntu, <c>brew install portaudio</c> on macOS, <c>portaudio.dll</c> next to the app on Windows).
/// </summary>
/// <remarks>
/// Reads with PortAudio's blocking API on a dedicated thread, 20 ms per read, in the requested format.
/// PortAudio prints probe noise (ALSA, JACK) on the process's standard error when it initializes; that is harmless.
/// </remarks>
public sealed partial class PortAudioInput : IAudioInput
{
    private const string Library = "portaudio";
    private const ulong PaInt16 = 0x00000008;
    private const int InputOverflowed = -9981;
    private static readonly string[] Candidates = ["libportaudio.so.2", "libportaudio.so", "libportaudio.2.dylib", "libportaudio.dylib", "portaudio.dll", "libportaudio.dll"];
    private static readonly Lock InitializeLock = new();
    private static IntPtr s_handle;
    private readonly int? _device;

    static PortAudioInput() => NativeLibrary.SetDllImportResolver(typeof(PortAudioInput).Assembly, Resolve);

    /// <summary>Initializes a new PortAudio capture.</summary>
    /// <param name="deviceIndex">The PortAudio device index (see <see cref="ListDevices"/>); the default input when null.</param>
    public PortAudioInput(int? deviceIndex = null)
    {
        _device = deviceIndex;
    }

    /// <inheritdoc />
    public string Name => $"portaudio {(_device is { } d ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : "default")}";

    /// <summary>Gets a value indicating whether the PortAudio native library can be loaded.</summary>
    public static bool IsAvailable => Resolve(Library, typeof(PortAudioInput).Assembly, null) != IntPtr.Zero;

    /// <summary>Lists the input devices PortAudio sees.</summary>
    /// <returns>The devices; <see cref="AudioDevice.Id"/> is the index to pass to the constructor.</returns>
    /// <exception cref="AudioInputException">PortAudio is not installed.</exception>
    public static IReadOnlyList<AudioDevice> ListDevices()
    {
        EnsureInitialized();
        var devices = new List<AudioDevice>();
        var count = Pa_GetDeviceCount();
        for (var i = 0; i < count; i++)
        {
            var info = Marshal.PtrToStructure<PaDeviceInfo>(Pa_GetDeviceInfo(i));
            if (info.MaxInputChannels > 0)
            {
                var name = Marshal.PtrToStringUTF8(info.Name) ?? $"device {i}";
                devices.Add(new AudioDevice(i.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{name} ({info.MaxInputChannels} ch, {info.DefaultSampleRate:F0} Hz)", "portaudio"));
            }
        }

        return devices;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<AudioFrame> CaptureAsync(AudioFormat format, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        EnsureInitialized();
        var device = _device ?? Pa_GetDefaultInputDevice();
        if (device < 0)
        {
            throw new AudioInputException("PortAudio finds no input device. Connect a microphone, or on Linux install libasound2-plugins so that ALSA reaches PulseAudio.");
        }

        var info = Marshal.PtrToStructure<PaDeviceInfo>(Pa_GetDeviceInfo(device));
        var parameters = new PaStreamParameters
        {
            Device = device,
            ChannelCount = format.Channels,
            SampleFormat = new CULong((nuint)PaInt16),
            SuggestedLatency = Math.Max(info.DefaultLowInputLatency, 0.02),
        };
        var frameSamples = format.SampleRate / 50;
        Check(Pa_OpenStream(out var stream, ref parameters, IntPtr.Zero, format.SampleRate, new CULong((nuint)frameSamples), new CULong(0), IntPtr.Zero, IntPtr.Zero), "open the input stream");
        var frames = Channel.CreateBounded<AudioFrame>(new BoundedChannelOptions(50) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var reader = new Thread(() => ReadLoop(stream, format, frameSamples, frames.Writer, stop.Token)) { IsBackground = true, Name = "PortAudio capture" };
        try
        {
            Check(Pa_StartStream(stream), "start the input stream");
            reader.Start();
            await foreach (var frame in frames.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return frame;
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            if (reader.IsAlive)
            {
                reader.Join();
            }

            _ = Pa_StopStream(stream);
            _ = Pa_CloseStream(stream);
            while (frames.Reader.TryRead(out var left))
            {
                left.Dispose();
            }
        }
    }

    private static unsafe void ReadLoop(IntPtr stream, AudioFormat format, int frameSamples, ChannelWriter<AudioFrame> writer, CancellationToken cancellationToken)
    {
        long position = 0;
        var bytes = frameSamples * format.BlockAlign;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var frame = AudioFrame.Rent(format, bytes, format.GetDuration((int)Math.Min(position, int.MaxValue)));
                int error;
                fixed (byte* buffer = frame.Span)
                {
                    error = Pa_ReadStream(stream, buffer, new CULong((nuint)frameSamples));
                }

                if (error != 0 && error != InputOverflowed)
                {
                    frame.Dispose();
                    writer.TryComplete(new AudioInputException($"PortAudio stopped reading: {ErrorText(error)}"));
                    return;
                }

                position += bytes;
                if (!writer.TryWrite(frame))
                {
                    frame.Dispose();
                }
            }

            writer.TryComplete();
        }
        catch (Exception ex)
        {
            writer.TryComplete(ex);
        }
    }

    private static void EnsureInitialized()
    {
        lock (InitializeLock)
        {
            if (!IsAvailable)
            {
                throw new AudioInputException("PortAudio is not installed: apt-get install libportaudio2 (Debian/Ubuntu), brew install portaudio (macOS), or put portaudio.dll next to the app (Windows). Or use FfmpegAudioInput.");
            }

            // Initialized once for the process: PortAudio counts initializations, and the devices stay valid.
            if (s_handle == IntPtr.Zero)
            {
                Check(Pa_Initialize(), "initialize");
                s_handle = 1;
            }
        }
    }

    private static void Check(int error, string what)
    {
        if (error != 0)
        {
            throw new AudioInputException($"PortAudio could not {what}: {ErrorText(error)}");
        }
    }

    private static string ErrorText(int error) => Marshal.PtrToStringUTF8(Pa_GetErrorText(error)) ?? $"error {error}";

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Library)
        {
            return IntPtr.Zero;
        }

        foreach (var candidate in Candidates)
        {
            if (NativeLibrary.TryLoad(candidate, assembly, searchPath, out var handle))
            {
                return handle;
            }
        }

        return IntPtr.Zero;
    }

    [LibraryImport(Library)]
    private static partial int Pa_Initialize();

    [LibraryImport(Library)]
    private static partial int Pa_GetDeviceCount();

    [LibraryImport(Library)]
    private static partial int Pa_GetDefaultInputDevice();

    [LibraryImport(Library)]
    private static partial IntPtr Pa_GetDeviceInfo(int device);

    [LibraryImport(Library)]
    private static partial IntPtr Pa_GetErrorText(int error);

    [LibraryImport(Library)]
    private static partial int Pa_OpenStream(out IntPtr stream, ref PaStreamParameters input, IntPtr output, double sampleRate, CULong framesPerBuffer, CULong flags, IntPtr callback, IntPtr userData);

    [LibraryImport(Library)]
    private static partial int Pa_StartStream(IntPtr stream);

    [LibraryImport(Library)]
    private static unsafe partial int Pa_ReadStream(IntPtr stream, byte* buffer, CULong frames);

    [LibraryImport(Library)]
    private static partial int Pa_StopStream(IntPtr stream);

    [LibraryImport(Library)]
    private static partial int Pa_CloseStream(IntPtr stream);

    [StructLayout(LayoutKind.Sequential)]
    private struct PaStreamParameters
    {
        public int Device;
        public int ChannelCount;
        public CULong SampleFormat;
        public double SuggestedLatency;
        public IntPtr HostApiSpecificStreamInfo;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PaDeviceInfo
    {
        public int StructVersion;
        public IntPtr Name;
        public int HostApi;
        public int MaxInputChannels;
        public int MaxOutputChannels;
        public double DefaultLowInputLatency;
        public double DefaultLowOutputLatency;
        public double DefaultHighInputLatency;
        public double DefaultHighOutputLatency;
        public double DefaultSampleRate;
    }
}
