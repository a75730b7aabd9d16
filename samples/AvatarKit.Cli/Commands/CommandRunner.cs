using System.CommandLine;
using AvatarKit.Cli.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace AvatarKit.Cli.Commands;

/// <summary>The options every command accepts.</summary>
internal sealed class GlobalOptions
{
    public Option<string?> EnvFile { get; } = new("--env-file") { Description = "The .env file to read (default: .env in the current directory, if present).", Recursive = true };

    public Option<string?> OutputDirectory { get; } = new("--output-dir", "-o") { Description = "Where recordings go (default: OUTPUT_DIR or ./outputs).", Recursive = true };

    public Option<bool> Verbose { get; } = new("--verbose", "-v") { Description = "Log debug details to the log file.", Recursive = true };
}

/// <summary>Runs a command's body with the environment loaded, turning failures into clear messages and exit codes.</summary>
internal static partial class CommandRunner
{
    public static async Task<int> RunAsync(ParseResult parse, GlobalOptions global, Func<CliEnvironment, Task<int>> body)
    {
        CliEnvironment? environment = null;
        try
        {
            environment = CliEnvironment.Load(parse.GetValue(global.EnvFile), parse.GetValue(global.OutputDirectory), parse.GetValue(global.Verbose));
            return await body(environment);
        }
        catch (OperationCanceledException)
        {
            AnsiConsole.MarkupLine("[yellow]Stopped (Ctrl+C); sessions closed and recordings finalized.[/]");
            return ExitCodes.Cancelled;
        }
        catch (CliException ex)
        {
            AnsiConsole.MarkupLine($"[red]✗ {Markup.Escape(ex.Message)}[/]");
            return ex.ExitCode;
        }
        catch (OptionsValidationException ex)
        {
            AnsiConsole.MarkupLine($"[red]✗ configuration: {Markup.Escape(string.Join(" ", ex.Failures))}[/]");
            return ExitCodes.Usage;
        }
        catch (AvatarApiException ex)
        {
            AnsiConsole.MarkupLine($"[red]✗ the avatar service refused: {Markup.Escape(ex.Message)}[/]");
            return ExitCodes.ServiceError;
        }
        catch (HttpRequestException ex)
        {
            AnsiConsole.MarkupLine($"[red]✗ a service could not be reached: {Markup.Escape(ex.Message)}[/]");
            return ExitCodes.ServiceError;
        }
        catch (Exception ex) when (environment is not null)
        {
            // Anything else: say what, keep the details in the log file.
            CommandFailed(environment.LoggerFactory.CreateLogger("AvatarKit.Cli"), ex);
            AnsiConsole.MarkupLine($"[red]✗ {Markup.Escape(ex.Message)}[/]");
            return ExitCodes.Failed;
        }
        finally
        {
            if (environment is not null)
            {
                AnsiConsole.MarkupLine($"[grey]log: {Markup.Escape(environment.LogFile.Replace("-.log", $"-{DateTime.Now:yyyyMMdd}.log", StringComparison.Ordinal))}[/]");
                environment.Dispose();
            }
        }
    }

    [LoggerMessage(1, LogLevel.Error, "The command failed.")]
    private static partial void CommandFailed(ILogger logger, Exception exception);
}
