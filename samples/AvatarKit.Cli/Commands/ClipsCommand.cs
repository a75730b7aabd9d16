using System.CommandLine;
using System.Globalization;
using AvatarKit.Cli.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Spectre.Console;

namespace AvatarKit.Cli.Commands;

/// <summary>
/// <c>clips [path]</c>: cuts the per-answer clips that recordings left uncut (their finish ran out of time, listed as
/// <c>uncutClips</c> in the sidecar) from the session files, for one sidecar or every sidecar in a directory.
/// </summary>
internal static partial class ClipsCommand
{
    public static Command Create(GlobalOptions global)
    {
        var path = new Argument<string?>("path")
        {
            Description = "A session sidecar (session_<id>.json) or a directory of them (default: the output directory).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("clips", "Cut the answer clips recordings left uncut (listed under uncutClips in their sidecar) from the session files.") { path };
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, global, env => RunAsync(env, parse.GetValue(path), ct)));
        return command;
    }

    private static async Task<int> RunAsync(CliEnvironment environment, string? path, CancellationToken cancellationToken)
    {
        var target = Path.GetFullPath(path ?? environment.OutputDirectory);
        string[] sidecars = Directory.Exists(target) ? [.. Directory.GetFiles(target, "session_*.json").Order(StringComparer.Ordinal)]
            : File.Exists(target) ? [target]
            : throw new CliException($"'{path}' is neither a session sidecar (session_<id>.json) nor a directory.", ExitCodes.Usage);
        if (sidecars.Length == 0)
        {
            AnsiConsole.MarkupLine($"No session sidecars (session_<id>.json) in {Markup.Escape(target)}.");
            return ExitCodes.Ok;
        }

        var options = RecordingOptions(environment);
        var logger = environment.LoggerFactory.CreateLogger("AvatarKit.Cli.Clips");
        var written = 0;
        var failed = 0;
        foreach (var sidecar in sidecars)
        {
            var name = Path.GetFileName(sidecar);
            try
            {
                var clips = await SessionClips.CutPendingAsync(sidecar, options, new ClipReporter(name), cancellationToken);
                written += clips.Count;
                if (clips.Count == 0)
                {
                    AnsiConsole.MarkupLine($"[grey]{Markup.Escape(name)}: no uncut clips[/]");
                }
            }
            catch (OperationCanceledException)
            {
                AnsiConsole.MarkupLine($"[yellow]Stopped (Ctrl+C) after {written} clip(s); the clips not cut stay listed in their sidecars: run `avatarkit clips` again to finish.[/]");
                return ExitCodes.Cancelled;
            }
            catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException or RecordingException)
            {
                // One broken session does not stop the others.
                failed++;
                ClipsFailed(logger, ex, sidecar);
                AnsiConsole.MarkupLine($"[red]✗ {Markup.Escape(name)}: {Markup.Escape(ex.Message)}[/]");
            }
        }

        AnsiConsole.MarkupLine($"{written} clip(s) cut from {sidecars.Length} sidecar(s){(failed > 0 ? $"; [red]{failed} failed[/]" : string.Empty)}.");
        return failed > 0 ? ExitCodes.Failed : ExitCodes.Ok;
    }

    /// <summary>The codec settings and ffmpeg path, from <c>AvatarKit:Recording</c> in the environment as the other commands read them.</summary>
    private static RecordingOptions RecordingOptions(CliEnvironment environment)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddEnvironmentVariables().Build());
        services.AddAvatarKit(o => o.OutputDirectory = environment.OutputDirectory).AddRecording();
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<RecordingOptions>>().Value;
    }

    [LoggerMessage(1, LogLevel.Error, "Cutting the uncut clips of {Sidecar} failed.")]
    private static partial void ClipsFailed(ILogger logger, Exception exception, string sidecar);

    /// <summary>Prints each clip the moment it is written.</summary>
    private sealed class ClipReporter(string sidecar) : IProgress<RecordedClip>
    {
        public void Report(RecordedClip value)
        {
            var range = string.Create(CultureInfo.InvariantCulture, $"{value.Start.TotalSeconds:0.00}–{value.End.TotalSeconds:0.00} s");
            var text = value.Text is { Length: > 0 } t ? $" \"{(t.Length > 60 ? t[..57] + "..." : t)}\"" : string.Empty;
            AnsiConsole.MarkupLine($"[green]✓[/] {Markup.Escape(value.FilePath)} [grey]({Markup.Escape(sidecar)}, {range}){Markup.Escape(text)}[/]");
        }
    }
}
