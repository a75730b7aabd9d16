using System.Globalization;
using System.Runtime.InteropServices;

namespace AvatarKit.Harness.Measuring;

/// <summary>Describes the machine a run was taken on.</summary>
internal static class Machine
{
    public static string Describe()
    {
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";
        return string.Create(
            CultureInfo.InvariantCulture,
            $"machine: {Environment.ProcessorCount} cores, {CpuModel()}, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, load average {load}");
    }

    private static string CpuModel()
    {
        const string path = "/proc/cpuinfo";
        var line = File.Exists(path) ? File.ReadLines(path).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal)) : null;
        return line?.Split(':', 2)[1].Trim() ?? RuntimeInformation.ProcessArchitecture.ToString();
    }
}
