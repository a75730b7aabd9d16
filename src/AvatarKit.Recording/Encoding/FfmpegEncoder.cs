using System.Buffers;
using System.Diagnostics;
using System.IO.Pipes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace AvatarKit.Recording.Encoding;

/// <summary>
/// One live ffmpeg process writing one segment: raw I420 video on stdin, PCM16 on one or two pipes,
/// fragmented MP4 on stdout, which this class copies into the segment file.
/// </summary>
/// <remarks>
/// This is a <see cref="Process"/> with an explicit argument list, not FFMpegCore: FFMpegCore's pipe
/// sources are pull enumerables that own pacing, stop and kill behaviour, while the live recorder
/// must push frames on its own media clock, know the child's pid, kill and restart it into a new
/// segment, and see every write error of the output file (a full disk) itself. Copying stdout into
/// the file (instead of letting ffmpeg open it) is what makes an output error ours to classify and
/// report, and lets tests inject a failing stream.
/// </remarks>
internal sealed partial class FfmpegEncoder : IAsyncDisposable
{
    private const int StderrTailLines = 12;
    private readonly Process _process;
    private readonly Stream _stdin;
    private readonly AudioPipe[] _audio;
    private readonly Stream _output;
    private readonly Task _copyTask;
    private readonly Task _stderrTask;
    private readonly Queue<string> _stderrTail = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ILogger _logger;
    private int _disposed;

    private FfmpegEncoder(Process process, AudioPipe[] audio, Stream output, string filePath, ILogger logger)
    {
        _process = process;
        _audio = audio;
        _output = output;
        _logger = logger;
        FilePath = filePath;
        ProcessId = process.Id;
        _stdin = process.StandardInput.BaseStream;
        _copyTask = Task.Run(CopyOutputAsync);
        _stderrTask = Task.Run(ReadStandardErrorAsync);
        foreach (var pipe in audio)
        {
            pipe.Start(_stop.Token);
        }
    }

    /// <summary>Gets the segment file.</summary>
    public string FilePath { get; }

    /// <summary>Gets the ffmpeg process id.</summary>
    public int ProcessId { get; }

    /// <summary>Gets the error that stopped writing the segment file (e.g. disk full), if any.</summary>
    public Exception? OutputFailure { get; private set; }

    /// <summary>Gets the last lines ffmpeg wrote to stderr.</summary>
    public string StandardErrorTail
    {
        get
        {
            lock (_stderrTail)
            {
                return string.Join(Environment.NewLine, _stderrTail);
            }
        }
    }

    /// <summary>Starts ffmpeg for one segment.</summary>
    /// <param name="ffmpegPath">The executable.</param>
    /// <param name="options">Encoder settings.</param>
    /// <param name="filePath">The segment file.</param>
    /// <param name="openOutput">Opens the segment file's stream.</param>
    /// <param name="logger">Where to log.</param>
    /// <returns>The running encoder.</returns>
    /// <exception cref="RecordingException">The output cannot be opened or ffmpeg cannot be started.</exception>
    public static FfmpegEncoder Start(string ffmpegPath, RecordingOptions options, string filePath, Func<string, Stream> openOutput, ILogger logger)
    {
        Stream output;
        try
        {
            output = openOutput(filePath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RecordingException($"Cannot write the recording file '{filePath}': {ex.Message} Check that the output directory exists, is writable and has free space.", ex);
        }

        var trackCount = options.AudioLayout == RecordingAudioLayout.SeparateTracks ? 2 : 1;
        var pipes = new AudioPipe[trackCount];
        for (var i = 0; i < trackCount; i++)
        {
            pipes[i] = new AudioPipe($"avatarkit-rec-{Guid.NewGuid():N}");
        }

        var settings = new EncoderSettings(ffmpegPath, options, [.. pipes.Select(p => p.FfmpegInput)]);
        var startInfo = new ProcessStartInfo(ffmpegPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            CreateNoWindow = true,
        };
        foreach (var argument in settings.BuildArguments())
        {
            startInfo.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new RecordingException($"FFmpeg ('{ffmpegPath}') did not start. {FfmpegLocator.InstallHint}");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            output.Dispose();
            Array.ForEach(pipes, p => p.DisposeServer());
            throw new RecordingException($"FFmpeg ('{ffmpegPath}') could not be started: {ex.Message}. {FfmpegLocator.InstallHint}", ex);
        }

        Log.EncoderStarted(logger, process.Id, filePath);
        return new FfmpegEncoder(process, pipes, output, filePath, logger);
    }

    /// <summary>Writes one raw I420 frame to ffmpeg's stdin.</summary>
    /// <param name="frame">The frame's bytes.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when ffmpeg took the frame (this is where a slow encoder pushes back).</returns>
    public async ValueTask WriteVideoAsync(ReadOnlyMemory<byte> frame, CancellationToken cancellationToken)
    {
        await _stdin.WriteAsync(frame, cancellationToken).ConfigureAwait(false);
        await _stdin.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Queues PCM16 48 kHz mono samples for one audio track.</summary>
    /// <param name="track">The track (0, or 1 for the user's track when separate).</param>
    /// <param name="samples">The samples; copied.</param>
    /// <param name="cancellationToken">Cancels waiting for room in the queue.</param>
    /// <returns>A task that completes when queued.</returns>
    /// <exception cref="IOException">The pipe to ffmpeg failed.</exception>
    public ValueTask WriteAudioAsync(int track, ReadOnlySpan<short> samples, CancellationToken cancellationToken) =>
        _audio[track].WriteAsync(samples, cancellationToken);

    /// <summary>Closes the inputs so that ffmpeg finishes the file, and waits for it (killing it after <paramref name="timeout"/>).</summary>
    /// <param name="timeout">How long ffmpeg may take to finish.</param>
    /// <param name="cancellationToken">Stops waiting; ffmpeg is killed (the file stays playable up to its last fragment).</param>
    /// <returns>A task that completes when the process has exited and the file is closed.</returns>
    public async Task CloseAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await _stdin.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // ffmpeg already gone; nothing left to flush.
        }

        foreach (var pipe in _audio)
        {
            pipe.Complete();
        }

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Log.EncoderKilledOnClose(_logger, ProcessId, timeout);
            Kill();
        }

        await DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Kills ffmpeg at once (the file stays playable up to its last complete fragment).</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (!_process.HasExited)
        {
            Kill();
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        foreach (var pipe in _audio)
        {
            await pipe.DisposeAsync().ConfigureAwait(false);
        }

        await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        await _copyTask.ConfigureAwait(false);
        await _stderrTask.ConfigureAwait(false);
        await _output.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _stdin.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // Broken pipe on the final flush: ffmpeg is gone, nothing to flush.
        }

        _process.Dispose();
        _stop.Dispose();
    }

    private async Task CopyOutputAsync()
    {
        var stdout = _process.StandardOutput.BaseStream;
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = await stdout.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            {
                try
                {
                    // Written and flushed at once: what ffmpeg finished is in the file if this process is killed next.
                    await _output.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
                    await _output.FlushAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or NotSupportedException)
                {
                    OutputFailure = ex;
                    Log.OutputWriteFailed(_logger, ex, FilePath);
                    Kill();
                    return;
                }
            }
        }
        catch (IOException)
        {
            // stdout closed under us (process killed): the file keeps what was copied.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private async Task ReadStandardErrorAsync()
    {
        try
        {
            while (await _process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                lock (_stderrTail)
                {
                    _stderrTail.Enqueue(line);
                    while (_stderrTail.Count > StderrTailLines)
                    {
                        _stderrTail.Dequeue();
                    }
                }

                Log.EncoderMessage(_logger, ProcessId, line);
            }
        }
        catch (IOException)
        {
            // stderr closed with the process.
        }
    }

    /// <summary>
    /// A second input for ffmpeg: a named pipe server (a Unix domain socket on Linux/macOS, read with
    /// <c>unix:</c>; a Windows named pipe otherwise) fed from a bounded queue by its own task, so that
    /// ffmpeg probing stdin before it connects here can never deadlock the video writer.
    /// </summary>
    private sealed class AudioPipe : IAsyncDisposable
    {
        private const int QueueChunks = 100;
        private readonly NamedPipeServerStream _server;
        private readonly Channel<(byte[] Buffer, int Length)> _queue = Channel.CreateBounded<(byte[] Buffer, int Length)>(
            new BoundedChannelOptions(QueueChunks) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });

        private Task _writer = Task.CompletedTask;

        public AudioPipe(string name)
        {
            _server = new NamedPipeServerStream(name, PipeDirection.Out, 1, PipeTransmissionMode.Byte, PipeOptions.Asynchronous);
            FfmpegInput = OperatingSystem.IsWindows() ? $@"\\.\pipe\{name}" : $"unix:{Path.Combine(Path.GetTempPath(), "CoreFxPipe_" + name)}";
        }

        public string FfmpegInput { get; }

        public void Start(CancellationToken stop) => _writer = Task.Run(() => PumpAsync(stop), CancellationToken.None);

        public ValueTask WriteAsync(ReadOnlySpan<short> samples, CancellationToken cancellationToken)
        {
            var length = samples.Length * sizeof(short);
            var buffer = ArrayPool<byte>.Shared.Rent(length);
            Pcm16.AsBytes(samples).CopyTo(buffer);
            return _queue.Writer.TryWrite((buffer, length)) ? ValueTask.CompletedTask : WaitAndWriteAsync(buffer, length, cancellationToken);
        }

        private async ValueTask WaitAndWriteAsync(byte[] buffer, int length, CancellationToken cancellationToken)
        {
            try
            {
                await _queue.Writer.WriteAsync((buffer, length), cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException ex)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw new IOException("The audio pipe to ffmpeg is closed.", ex.InnerException ?? ex);
            }
            catch (OperationCanceledException)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                throw;
            }
        }

        /// <summary>Ends the stream after the queued audio; the pump closes the pipe, which ffmpeg reads as end of input.</summary>
        public void Complete() => _queue.Writer.TryComplete();

        public void DisposeServer() => _server.Dispose();

        public async ValueTask DisposeAsync()
        {
            _queue.Writer.TryComplete();
            await _writer.ConfigureAwait(false);
            await _server.DisposeAsync().ConfigureAwait(false);
        }

        private async Task PumpAsync(CancellationToken stop)
        {
            try
            {
                await _server.WaitForConnectionAsync(stop).ConfigureAwait(false);
                await foreach (var (buffer, length) in _queue.Reader.ReadAllAsync(stop).ConfigureAwait(false))
                {
                    try
                    {
                        await _server.WriteAsync(buffer.AsMemory(0, length), stop).ConfigureAwait(false);
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
            {
                _queue.Writer.TryComplete(ex as IOException ?? new IOException("The audio pipe to ffmpeg closed.", ex));
            }
            finally
            {
                // Closing the socket is ffmpeg's end of input.
                await _server.DisposeAsync().ConfigureAwait(false);
                while (_queue.Reader.TryRead(out var left))
                {
                    ArrayPool<byte>.Shared.Return(left.Buffer);
                }
            }
        }
    }
}
