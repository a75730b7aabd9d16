using System.CommandLine;
using AvatarKit.Cli.Commands;
using AvatarKit.Cli.Hosting;
using Spectre.Console;

// Redirected output (scripts, CI, tests) gets wide tables instead of 80 columns.
if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 160;
}

var global = new GlobalOptions();
var root = new RootCommand("AvatarKit: live voice conversations with a talking avatar, recorded to MP4. With no API keys, everything runs in the local sandbox.")
{
    global.EnvFile,
    global.OutputDirectory,
    global.Verbose,
    DemoCommand.Create(global),
    ChatCommand.Create(global),
    DoctorCommand.Create(global),
    AvatarsCommand.CreateAvatars(global),
    AvatarsCommand.CreateSessions(global),
    EmulateCommand.Create(global),
    ClipsCommand.Create(global),
};

// Ctrl+C cancels the command's token; give it time to close remote sessions and finalize recordings.
var configuration = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(45) };
var parse = root.Parse(args);
var exitCode = await parse.InvokeAsync(configuration);

// Bad arguments are a usage error, as the CLI documents; System.CommandLine reports them as 1.
return parse.Errors.Count > 0 ? ExitCodes.Usage : exitCode;
