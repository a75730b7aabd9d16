using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace AvatarKit;

/// <summary>Argument checks shared by the AvatarKit packages.</summary>
internal static class Throw
{
    public static T IfNull<T>([NotNull] T? argument, [CallerArgumentExpression(nameof(argument))] string? name = null)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(argument, name);
        return argument;
    }

    public static string IfNullOrWhiteSpace([NotNull] string? argument, [CallerArgumentExpression(nameof(argument))] string? name = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(argument, name);
        return argument;
    }
}
