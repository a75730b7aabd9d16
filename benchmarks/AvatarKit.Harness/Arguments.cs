using System.Globalization;

namespace AvatarKit.Harness;

/// <summary>The harness's <c>--name value</c> and <c>--flag</c> arguments.</summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.OrdinalIgnoreCase);

    public static Arguments Parse(ReadOnlySpan<string> args)
    {
        var parsed = new Arguments();
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new FormatException($"unexpected argument '{args[i]}'");
            }

            var name = args[i][2..];
            string? value = null;
            if (name.IndexOf('=', StringComparison.Ordinal) is var eq and >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }

            parsed._values[name] = value;
        }

        return parsed;
    }

    public bool Flag(string name) => _values.ContainsKey(name);

    public int Int(string name, int fallback) =>
        Get(name) is { } value ? int.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) =>
        Get(name) is { } value ? double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture) : fallback;

    /// <summary>Reads a duration: <c>500ms</c>, <c>60s</c>, <c>10m</c>, or plain seconds.</summary>
    /// <param name="name">The option.</param>
    /// <param name="fallback">The value when absent.</param>
    /// <returns>The duration.</returns>
    public TimeSpan Duration(string name, TimeSpan fallback)
    {
        if (Get(name) is not { } value)
        {
            return fallback;
        }

        (string number, double unit) = value switch
        {
            _ when value.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (value[..^2], 0.001),
            _ when value.EndsWith('s') => (value[..^1], 1),
            _ when value.EndsWith('m') => (value[..^1], 60),
            _ => (value, 1),
        };
        return TimeSpan.FromSeconds(double.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture) * unit);
    }

    private string? Get(string name)
    {
        if (!_values.TryGetValue(name, out var value))
        {
            return null;
        }

        return value ?? throw new FormatException($"--{name} needs a value");
    }
}
