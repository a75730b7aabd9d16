using System.CommandLine;
using AvatarKit.Cli.Hosting;
using AvatarKit.Cli.Rendering;
using Spectre.Console;

namespace AvatarKit.Cli.Commands;

/// <summary><c>avatars</c>, <c>sessions list</c> and <c>sessions close-all</c>: the avatar account's catalogue and active sessions.</summary>
internal static class AvatarsCommand
{
    public static Command CreateAvatars(GlobalOptions global)
    {
        var command = new Command("avatars", "List the avatars you can use.");
        command.SetAction((parse, ct) => CommandRunner.RunAsync(parse, global, async env =>
        {
            await using var host = await ConversationHost.CreateAsync(env, new HostRequest(Voice: false, Record: false), ct);
            ProviderTable.Write(host);
            await WriteAvatarsAsync(host.AvatarService, ct);
            return ExitCodes.Ok;
        }));
        return command;
    }

    public static Command CreateSessions(GlobalOptions global)
    {
        var list = new Command("list", "List the account's active avatar sessions (also ones other processes opened).");
        list.SetAction((parse, ct) => CommandRunner.RunAsync(parse, global, async env =>
        {
            await using var host = await ConversationHost.CreateAsync(env, new HostRequest(Voice: false, Record: false), ct);
            var sessions = await host.AvatarService.ListActiveSessionsAsync(ct);
            var table = new Table().Border(TableBorder.Rounded).AddColumn("session").AddColumn("avatar").AddColumn("status").AddColumn("created");
            foreach (var s in sessions)
            {
                table.AddRow(Markup.Escape(s.SessionId), Markup.Escape(s.AvatarId ?? "–"), Markup.Escape(s.Status ?? "–"), s.CreatedAt?.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) ?? "–");
            }

            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"{sessions.Count} active session(s){(host.UsesSandbox ? " [yellow](sandbox)[/]" : string.Empty)}");
            return ExitCodes.Ok;
        }));

        var closeAll = new Command("close-all", "Stop every active avatar session of the account (frees the concurrency slot).");
        closeAll.SetAction((parse, ct) => CommandRunner.RunAsync(parse, global, async env =>
        {
            await using var host = await ConversationHost.CreateAsync(env, new HostRequest(Voice: false, Record: false), ct);
            var closed = await host.AvatarService.CloseAllSessionsAsync(ct);
            AnsiConsole.MarkupLine($"[green]✓[/] closed {closed} session(s){(host.UsesSandbox ? " [yellow](sandbox)[/]" : string.Empty)}");
            return ExitCodes.Ok;
        }));

        return new Command("sessions", "Manage the account's active avatar sessions.") { list, closeAll };
    }

    public static async Task WriteAvatarsAsync(IAvatarService service, CancellationToken cancellationToken)
    {
        var avatars = await service.ListAvatarsAsync(cancellationToken);
        var table = new Table().Border(TableBorder.Rounded).AddColumn("id").AddColumn("name").AddColumn("kind").AddColumn("default voice");
        foreach (var a in avatars)
        {
            table.AddRow(Markup.Escape(a.Id), Markup.Escape(a.Name), a.IsPublic ? "public" : "[green]yours[/]", Markup.Escape(a.DefaultVoiceId ?? "–"));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"{avatars.Count} avatar(s); set DEFAULT_AVATAR_ID to choose one.");
    }
}
