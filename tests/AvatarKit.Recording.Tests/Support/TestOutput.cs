namespace AvatarKit.Recording.Tests.Support;

/// <summary>A fresh output directory per test, removed afterwards.</summary>
internal sealed class TestOutput : IDisposable
{
    public TestOutput()
    {
        Directory = Path.Combine(Path.GetTempPath(), "avatarkit-rec-tests", Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(Directory);
    }

    public string Directory { get; }

    public RecordingOptions Options(Action<RecordingOptions>? configure = null)
    {
        // Fed faster than real time: a test thread starved by a busy CI machine must not look like an idle room.
        var options = new RecordingOptions { OutputDirectory = Directory, Preset = "ultrafast", IdleAfter = TimeSpan.FromSeconds(3) };
        configure?.Invoke(options);
        return options;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A mount point or a file still open; the temp directory is cleaned up by the OS.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
