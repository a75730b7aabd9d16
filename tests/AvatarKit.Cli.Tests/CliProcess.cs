using System.Reflection;
using System.Text;
using CliWrap;

namespace AvatarKit.Cli.Tests;

/// <summary>Runs the AvatarKit CLI as a user would: a separate process, in its own directory, with a controlled environment.</summary>
internal sealed class CliProcess : IDisposable
{
    private static readonly string[] KeyVariables =
    [
        "LIVEAVATAR_API_KEY", "HEYGEN_API_KEY", "DEEPGRAM_API_KEY", "GEMINI_API_KEY", "DEFAULT_AVATAR_ID", "OUTPUT_DIR",
        "LIVEAVATAR_BASE_URL", "DEEPGRAM_BASE_URL", "GEMINI_BASE_URL", "LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET",
    ];

    public CliProcess()
    {
        WorkingDirectory = Directory.CreateTempSubdirectory("avatarkit-cli-").FullName;
        foreach (var name in KeyVariables)
        {
            Environment[name] = null;
        }

        // Emulator sessions that tests leave behind must not slow the next run.
        Environment["AVATARKIT_LOG_DIR"] = Path.Combine(WorkingDirectory, "logs");
    }

    public static string CliPath { get; } = FindCli();

    public string WorkingDirectory { get; }

    public string OutputDirectory => Path.Combine(WorkingDirectory, "outputs");

    public Dictionary<string, string?> Environment { get; } = new(StringComparer.Ordinal);

    public Command Command(params string[] arguments) =>
        CliWrap.Cli.Wrap("dotnet")
            .WithArguments(["exec", CliPath, .. arguments])
            .WithWorkingDirectory(WorkingDirectory)
            .WithEnvironmentVariables(Environment)
            .WithValidation(CommandResultValidation.None);

    public async Task<(int ExitCode, string Output)> RunAsync(string[] arguments, string? input = null, CancellationToken cancellationToken = default)
    {
        var output = new StringBuilder();
        var command = Command(arguments)
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(output))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(output));
        if (input is not null)
        {
            command = command.WithStandardInputPipe(PipeSource.FromString(input));
        }

        var result = await command.ExecuteAsync(cancellationToken);
        return (result.ExitCode, output.ToString());
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(WorkingDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string FindCli()
    {
        var configuration = typeof(CliProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "CliConfiguration").Value;
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "AvatarKit.sln")))
        {
            directory = directory.Parent;
        }

        var path = Path.Combine(directory?.FullName ?? throw new InvalidOperationException("The repository root (AvatarKit.sln) was not found."),
            "samples", "AvatarKit.Cli", "bin", configuration!, "net10.0", "AvatarKit.Cli.dll");
        return File.Exists(path) ? path : throw new InvalidOperationException($"The CLI was not built: {path}");
    }
}
