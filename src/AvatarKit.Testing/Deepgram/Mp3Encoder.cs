using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace AvatarKit.Testing.Deepgram;

/// <summary>
/// Encodes PCM16 mono to MP3 with an <c>ffmpeg</c> process, for Aura's default REST output
/// (<c>encoding=mp3</c>, which is what the official SDK asks for when no encoding is given).
/// </summary>
internal static class Mp3Encoder
{
    /// <summary>The rate of Aura's MP3 output, in Hz.</summary>
    public const int SampleRate = 22_050;

    /// <summary>Encodes <paramref name="pcm"/>; null when ffmpeg is not installed.</summary>
    public static async Task<byte[]?> EncodeAsync(byte[] pcm, int sampleRate, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])["-nostdin", "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", sampleRate.ToString(CultureInfo.InvariantCulture), "-ac", "1", "-i", "pipe:0", "-f", "mp3", "-b:a", "48k", "pipe:1"])
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception)
        {
            return null;
        }

        using (process)
        {
            try
            {
                using var output = new MemoryStream();
                var reading = process.StandardOutput.BaseStream.CopyToAsync(output, cancellationToken);
                var errors = process.StandardError.ReadToEndAsync(cancellationToken);
                await process.StandardInput.BaseStream.WriteAsync(pcm, cancellationToken).ConfigureAwait(false);
                process.StandardInput.Close();
                await reading.ConfigureAwait(false);
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                return process.ExitCode == 0 ? output.ToArray() : throw new InvalidOperationException($"ffmpeg could not encode MP3: {await errors.ConfigureAwait(false)}");
            }
            finally
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }
            }
        }
    }
}
