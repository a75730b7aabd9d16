using System.Diagnostics;
using System.Runtime.CompilerServices;
using NAudio.Wave;

namespace AvatarKit.Speech.Capture;

/// <summary>
/// An <see cref="IAudioInput"/> over a WAV file or a stream of WAV or raw PCM16, delivered as 20 ms
/// frames either paced in real time (as a microphone would) or as fast as the reader takes them.
/// </summary>
/// <remarks>
/// WAV input (any PCM bit depth or IEEE float, read with NAudio) is converted to the requested format.
/// A stream that is not WAV is raw PCM16 in the format given to the constructor.
/// The input can be captured once when built on a stream, any number of times when built on a file.
/// </remarks>
public sealed class StreamAudioInput : IAudioInput
{
    private static readonly TimeSpan FrameDuration = TimeSpan.FromMilliseconds(20);
    private readonly Func<Stream> _open;
    private readonly AudioFormat? _rawFormat;
    private readonly bool _leaveOpen;

    private StreamAudioInput(string name, Func<Stream> open, AudioFormat? rawFormat, bool realTime, bool leaveOpen = false)
    {
        Name = name;
        _open = open;
        _rawFormat = rawFormat;
        RealTime = realTime;
        _leaveOpen = leaveOpen;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>Gets a value indicating whether frames are paced in real time.</summary>
    public bool RealTime { get; }

    /// <summary>Creates an input that reads a WAV file.</summary>
    /// <param name="path">The WAV file.</param>
    /// <param name="realTime">True to pace frames in real time; false to deliver them as fast as they are read.</param>
    /// <returns>The input.</returns>
    public static StreamAudioInput FromWavFile(string path, bool realTime = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        return new StreamAudioInput(Path.GetFileName(path), () => File.OpenRead(path), rawFormat: null, realTime);
    }

    /// <summary>Creates an input that reads a stream holding a WAV file or raw PCM16.</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="rawFormat">The format of raw PCM16 (ignored for WAV); the requested format when null.</param>
    /// <param name="realTime">True to pace frames in real time; false to deliver them as fast as they are read.</param>
    /// <param name="name">A name for logs.</param>
    /// <param name="leaveOpen">True to leave the stream open when capture ends; by default the input disposes it.</param>
    /// <returns>The input.</returns>
    public static StreamAudioInput FromStream(Stream stream, AudioFormat? rawFormat = null, bool realTime = false, string name = "stream", bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var taken = 0;
        return new StreamAudioInput(name, () => Interlocked.Exchange(ref taken, 1) == 0 ? stream : throw new InvalidOperationException("A stream input can be captured only once."), rawFormat, realTime, leaveOpen);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<AudioFrame> CaptureAsync(AudioFormat format, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Stream stream;
        try
        {
            stream = _open();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new AudioInputException($"Cannot open audio input '{Name}': {ex.Message}", ex);
        }

        await using var owned = (_leaveOpen ? Stream.Null : stream).ConfigureAwait(false);
        var (sourceFormat, reader) = await OpenAsync(stream, format, cancellationToken).ConfigureAwait(false);

        // NAudio's reader owns the stream it reads; it holds nothing else worth disposing.
        using var disposeReader = _leaveOpen ? null : reader as IDisposable;
        var frameBytes = sourceFormat.GetByteCount(FrameDuration);
        var started = Stopwatch.GetTimestamp();
        long position = 0;
        while (true)
        {
            var frame = AudioFrame.Rent(sourceFormat, frameBytes, sourceFormat.GetDuration((int)Math.Min(position, int.MaxValue)));
            int read;
            try
            {
                read = await reader.ReadAsync(frame.Memory, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                frame.Dispose();
                throw;
            }

            read -= read % sourceFormat.BlockAlign;
            if (read == 0)
            {
                frame.Dispose();
                yield break;
            }

            var timestamp = frame.Timestamp;
            AudioFrame output;
            if (read == frameBytes && sourceFormat == format)
            {
                output = frame;
            }
            else
            {
                using var whole = AudioFrame.Copy(sourceFormat, frame.Span[..read], timestamp);
                frame.Dispose();
                output = AudioConversion.Convert(whole, format);
            }

            position += read;
            if (RealTime)
            {
                var due = timestamp - Stopwatch.GetElapsedTime(started);
                if (due > TimeSpan.Zero)
                {
                    try
                    {
                        await Task.Delay(due, cancellationToken).ConfigureAwait(false);
                    }
                    catch
                    {
                        output.Dispose();
                        throw;
                    }
                }
            }

            yield return output;
        }
    }

    private async Task<(AudioFormat Format, PcmReader Reader)> OpenAsync(Stream stream, AudioFormat requested, CancellationToken cancellationToken)
    {
        var head = new byte[4];
        var headCount = stream.CanSeek ? await stream.ReadAtLeastAsync(head, 4, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false) : 0;
        if (headCount == 4 && head.AsSpan().SequenceEqual("RIFF"u8))
        {
            stream.Position -= headCount;
            try
            {
                var wav = new WaveFileReader(stream);
                var format = new AudioFormat(wav.WaveFormat.SampleRate, wav.WaveFormat.Channels);
                return (format, new WavPcmReader(wav));
            }
            catch (FormatException ex)
            {
                throw new AudioInputException($"'{Name}' is not a readable WAV file: {ex.Message}", ex);
            }
        }

        if (stream.CanSeek)
        {
            stream.Position -= headCount;
        }

        return (_rawFormat ?? requested, new RawPcmReader(stream));
    }

    /// <summary>Reads PCM16 bytes in the source format.</summary>
    private abstract class PcmReader
    {
        public abstract ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken);
    }

    private sealed class RawPcmReader(Stream stream) : PcmReader
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
            stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
    }

    /// <summary>Any WAV NAudio reads, as PCM16 through its sample provider.</summary>
    private sealed class WavPcmReader(WaveFileReader reader) : PcmReader, IDisposable
    {
        private readonly ISampleProvider _samples = reader.ToSampleProvider();
        private float[] _floats = [];

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            var count = buffer.Length / 2;
            if (_floats.Length < count)
            {
                _floats = new float[count];
            }

            var total = 0;
            int read;
            while (total < count && (read = _samples.Read(_floats.AsSpan(total, count - total))) > 0)
            {
                total += read;
            }

            var samples = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(buffer.Span);
            Pcm16.FromFloat(_floats.AsSpan(0, total), samples);
            return ValueTask.FromResult(total * 2);
        }

        public void Dispose() => reader.Dispose();
    }
}
