using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;
using Serilog.Extensions.Logging;

namespace AvatarKit.Cli.Hosting;

/// <summary>What every command starts from: the .env file, the environment, the output directory and the rolling log file.</summary>
internal sealed class CliEnvironment : IDisposable
{
    private readonly Serilog.Core.Logger _serilog;

    private CliEnvironment(string? envFile, string outputDirectory, string logFile, Serilog.Core.Logger serilog)
    {
        EnvFile = envFile;
        OutputDirectory = outputDirectory;
        LogFile = logFile;
        _serilog = serilog;
        LoggerFactory = new SerilogLoggerFactory(serilog, dispose: false);
    }

    /// <summary>Gets the .env file that was read, if any.</summary>
    public string? EnvFile { get; }

    /// <summary>Gets the directory recordings go to (created).</summary>
    public string OutputDirectory { get; }

    /// <summary>Gets the log file pattern (one file per day).</summary>
    public string LogFile { get; }

    /// <summary>Gets the logger factory writing to the rolling log file.</summary>
    public ILoggerFactory LoggerFactory { get; }

    /// <summary>Reads the .env file (variables already set win), creates the output directory and opens the log.</summary>
    /// <param name="envFile">The .env file; <c>.env</c> in the current directory when null.</param>
    /// <param name="outputDirectory">Where recordings go; <c>OUTPUT_DIR</c> or <c>outputs</c> when null.</param>
    /// <param name="verbose">Log at Debug rather than Information.</param>
    /// <returns>The environment.</returns>
    public static CliEnvironment Load(string? envFile, string? outputDirectory, bool verbose)
    {
        var envPath = Path.GetFullPath(envFile ?? ".env");
        string? loaded = null;
        if (File.Exists(envPath))
        {
            DotNetEnv.Env.NoClobber().Load(envPath);
            loaded = envPath;
        }
        else if (envFile is not null)
        {
            throw new CliException($"The .env file '{envFile}' does not exist.", ExitCodes.Usage);
        }

        var output = Path.GetFullPath(outputDirectory ?? Get("OUTPUT_DIR") ?? "outputs");
        Directory.CreateDirectory(output);
        // Next to the recordings (already ignored by git), unless AVATARKIT_LOG_DIR says otherwise.
        var logDirectory = Path.GetFullPath(Get("AVATARKIT_LOG_DIR") ?? Path.Combine(output, "logs"));
        Directory.CreateDirectory(logDirectory);
        var logFile = Path.Combine(logDirectory, "avatarkit-.log");
        var serilog = new LoggerConfiguration()
            .MinimumLevel.Is(verbose ? LogEventLevel.Debug : LogEventLevel.Information)
            .MinimumLevel.Override("System.Net.Http", verbose ? LogEventLevel.Information : LogEventLevel.Warning)
            .MinimumLevel.Override("Polly", LogEventLevel.Warning)
            .WriteTo.File(logFile, rollingInterval: RollingInterval.Day, retainedFileCountLimit: 14, shared: true,
                outputTemplate: "{Timestamp:yyyy-MM-dd HH:mm:ss.fff} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}",
                formatProvider: System.Globalization.CultureInfo.InvariantCulture)
            .CreateLogger();
        return new CliEnvironment(loaded, output, logFile, serilog);
    }

    /// <summary>Reads an environment variable; null when unset or blank.</summary>
    /// <param name="name">The variable.</param>
    /// <returns>The value.</returns>
    public static string? Get(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    /// <summary>Reads an environment variable holding an absolute URL.</summary>
    /// <param name="name">The variable.</param>
    /// <returns>The URL, or null when unset.</returns>
    public static Uri? GetUrl(string name) => Get(name) is { } value
        ? Uri.TryCreate(value, UriKind.Absolute, out var url) ? url : throw new CliException($"{name} is '{value}', which is not an absolute URL.", ExitCodes.Usage)
        : null;

    public void Dispose()
    {
        LoggerFactory.Dispose();
        _serilog.Dispose();
    }
}

/// <summary>Exit codes scripts can rely on.</summary>
internal static class ExitCodes
{
    /// <summary>Everything worked.</summary>
    public const int Ok = 0;

    /// <summary>The command ran and something failed (a check, a turn, a file missing).</summary>
    public const int Failed = 1;

    /// <summary>Bad arguments or configuration.</summary>
    public const int Usage = 2;

    /// <summary>A service could not be reached or refused (bad key, quota).</summary>
    public const int ServiceError = 3;

    /// <summary>Stopped by Ctrl+C or SIGTERM (after closing sessions and finalizing recordings).</summary>
    public const int Cancelled = 130;
}

/// <summary>A failure with a message for the user and an exit code.</summary>
internal sealed class CliException(string message, int exitCode, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
