using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.AI;

namespace AvatarKit.Testing.Voice;

/// <summary>
/// Synthesizes real (robotic) speech with the <c>espeak-ng</c> process, as PCM16 mono at the
/// requested rate. Used by the sandbox avatar and the Deepgram emulator's Aura endpoints.
/// </summary>
/// <remarks>
/// The rate is taken from <see cref="TextToSpeechOptions.AdditionalProperties"/>
/// <c>["sample_rate"]</c> (an integer, 24,000 by default); <see cref="TextToSpeechOptions.VoiceId"/>
/// is passed to espeak-ng's <c>-v</c> and <see cref="TextToSpeechOptions.Speed"/> scales its
/// words-per-minute. The audio comes back as one <see cref="DataContent"/> with media type
/// <c>audio/pcm;rate=N;channels=1</c>.
/// When espeak-ng is not installed every call throws <see cref="InvalidOperationException"/>
/// naming the package to install; check <see cref="IsAvailable"/> first to fall back.
/// </remarks>
public sealed class EspeakTextToSpeechClient : ITextToSpeechClient
{
    /// <summary>The key of the output sample rate in <see cref="TextToSpeechOptions.AdditionalProperties"/>.</summary>
    public const string SampleRateKey = "sample_rate";

    private const int DefaultSampleRate = 24_000;
    private const int DefaultWordsPerMinute = 175;
    private static readonly Lazy<string?> ExecutablePath = new(FindExecutable);
    private readonly TextToSpeechClientMetadata _metadata = new("espeak-ng", providerUri: null, defaultModelId: "espeak-ng");

    /// <summary>Gets a value indicating whether the <c>espeak-ng</c> executable is on the PATH.</summary>
    public static bool IsAvailable => ExecutablePath.Value is not null;

    /// <summary>Synthesizes <paramref name="text"/> to PCM16 mono at <paramref name="sampleRate"/>.</summary>
    /// <param name="text">The text to speak.</param>
    /// <param name="sampleRate">The output rate in Hz.</param>
    /// <param name="voice">The espeak-ng voice (<c>en</c> by default).</param>
    /// <param name="speed">Speed multiplier, 1 = normal.</param>
    /// <param name="cancellationToken">Cancels the synthesis and kills the process.</param>
    /// <returns>The samples as little-endian bytes.</returns>
    /// <exception cref="InvalidOperationException">espeak-ng is not installed or failed.</exception>
    public static async Task<byte[]> SynthesizeAsync(string text, int sampleRate, string? voice = null, float? speed = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        var format = new AudioFormat(sampleRate, 1);
        var executable = ExecutablePath.Value
            ?? throw new InvalidOperationException("espeak-ng is not installed; install the 'espeak-ng' package (apt-get install espeak-ng, brew install espeak-ng) to synthesize speech.");
        var startInfo = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("--stdout");
        startInfo.ArgumentList.Add("-v");
        startInfo.ArgumentList.Add(voice ?? "en");
        startInfo.ArgumentList.Add("-s");
        startInfo.ArgumentList.Add(((int)(DefaultWordsPerMinute * (speed ?? 1f))).ToString(CultureInfo.InvariantCulture));

        // Text on stdin, so that text starting with '-' is never read as an option.
        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("espeak-ng could not be started.");
        using var memory = new MemoryStream();
        try
        {
            var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.StandardInput.WriteAsync(text.AsMemory(), cancellationToken).ConfigureAwait(false);
            process.StandardInput.Close();
            await process.StandardOutput.BaseStream.CopyToAsync(memory, cancellationToken).ConfigureAwait(false);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"espeak-ng exited with code {process.ExitCode}: {(await stderr.ConfigureAwait(false)).Trim()}");
            }
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var (pcm, sourceRate) = ReadWavData(memory.GetBuffer().AsSpan(0, (int)memory.Length));
        var output = new byte[Pcm16.GetResampledLength(pcm.Length, sourceRate, format.SampleRate) * AudioFormat.BytesPerSample];
        Pcm16.Resample(pcm, sourceRate, System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(output.AsSpan()), format.SampleRate);
        return output;
    }

    /// <inheritdoc />
    public async Task<TextToSpeechResponse> GetAudioAsync(string text, TextToSpeechOptions? options = null, CancellationToken cancellationToken = default)
    {
        var rate = GetSampleRate(options);
        var pcm = await SynthesizeAsync(text, rate, options?.VoiceId, options?.Speed, cancellationToken).ConfigureAwait(false);
        return new TextToSpeechResponse([new DataContent(pcm, GetMediaType(rate))]) { ModelId = _metadata.DefaultModelId };
    }

    /// <inheritdoc />
    public IAsyncEnumerable<TextToSpeechResponseUpdate> GetStreamingAudioAsync(string text, TextToSpeechOptions? options = null, CancellationToken cancellationToken = default) =>
        LocalVoice.StreamAsync(ct => GetAudioAsync(text, options, ct), cancellationToken);

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null) => LocalVoice.GetService(this, _metadata, serviceType, serviceKey);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    internal static string GetMediaType(int sampleRate) => $"audio/pcm;rate={sampleRate.ToString(CultureInfo.InvariantCulture)};channels=1";

    internal static int GetSampleRate(TextToSpeechOptions? options) =>
        options?.AdditionalProperties?.TryGetValue(SampleRateKey, out var value) == true
            ? Convert.ToInt32(value, CultureInfo.InvariantCulture)
            : DefaultSampleRate;

    // espeak-ng writes a RIFF header with "unknown" sizes to stdout, so walk the chunks by hand.
    private static (short[] Samples, int SampleRate) ReadWavData(ReadOnlySpan<byte> wav)
    {
        if (wav.Length < 12 || !wav[..4].SequenceEqual("RIFF"u8) || !wav.Slice(8, 4).SequenceEqual("WAVE"u8))
        {
            throw new InvalidOperationException("espeak-ng did not produce a WAV stream.");
        }

        var rate = 0;
        var position = 12;
        while (position + 8 <= wav.Length)
        {
            var id = wav.Slice(position, 4);
            var size = BinaryPrimitives.ReadInt32LittleEndian(wav.Slice(position + 4, 4));
            if (id.SequenceEqual("fmt "u8))
            {
                rate = BinaryPrimitives.ReadInt32LittleEndian(wav.Slice(position + 12, 4));
            }
            else if (id.SequenceEqual("data"u8))
            {
                var data = wav[(position + 8)..];
                data = data[..(data.Length & ~1)];
                var samples = new short[data.Length / 2];
                Pcm16.ToSamples(data, samples);
                return (samples, rate);
            }

            position += 8 + size;
        }

        throw new InvalidOperationException("espeak-ng produced a WAV stream without audio.");
    }

    private static string? FindExecutable()
    {
        var name = OperatingSystem.IsWindows() ? "espeak-ng.exe" : "espeak-ng";
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
