using AvatarKit.Cli.Hosting;
using Spectre.Console;

namespace AvatarKit.Cli.Rendering;

/// <summary>Shows which provider serves each capability, and says plainly when the sandbox is used.</summary>
internal static class ProviderTable
{
    public static void Write(ConversationHost host)
    {
        if (host.UsesSandbox)
        {
            AnsiConsole.MarkupLine("[black on yellow] SANDBOX [/] [yellow]Some API keys are not set, so local emulators stand in for those services (nothing leaves this machine).[/]");
        }

        var table = new Table().Border(TableBorder.Rounded).AddColumn("capability").AddColumn("provider").AddColumn("mode");
        foreach (var p in host.Providers)
        {
            table.AddRow(p.Capability, Markup.Escape(p.Provider), p.IsSandbox ? "[yellow]sandbox[/]" : "[green]live[/]");
        }

        AnsiConsole.Write(table);
    }
}
