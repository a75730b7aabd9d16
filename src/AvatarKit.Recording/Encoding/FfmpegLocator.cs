namespace AvatarKit.Recording.Encoding;

/// <summary>Finds the ffmpeg executable once per recorder and explains how to install it when missing.</summary>
internal static class FfmpegLocator
{
    public const string InstallHint =
        "Install FFmpeg (Debian/Ubuntu: apt-get install ffmpeg; Fedora: dnf install ffmpeg; macOS: brew install ffmpeg; " +
        "Windows: winget install Gyan.FFmpeg) or set RecordingOptions.FfmpegPath to the ffmpeg executable.";

    /// <summary>Resolves <paramref name="configured"/> (a path or a name) to an existing file.</summary>
    /// <param name="configured">The configured path or name; <c>ffmpeg</c> when null.</param>
    /// <returns>The full path of the executable.</returns>
    /// <exception cref="RecordingException">Nothing executable was found.</exception>
    public static string Resolve(string? configured)
    {
        var name = string.IsNullOrWhiteSpace(configured) ? "ffmpeg" : configured;
        if (name.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal) || name.Contains(Path.AltDirectorySeparatorChar, StringComparison.Ordinal))
        {
            return File.Exists(name) ? Path.GetFullPath(name) : throw new RecordingException($"FFmpeg was not found at '{name}'. {InstallHint}");
        }

        var candidates = OperatingSystem.IsWindows() && !name.EndsWith(".exe", StringComparison.OrdinalIgnoreCase) ? [name + ".exe", name] : new[] { name };
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var candidate in candidates)
            {
                var path = Path.Combine(directory, candidate);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }

        throw new RecordingException($"FFmpeg ('{name}') was not found on PATH. {InstallHint}");
    }
}
