using System.Globalization;

namespace AvatarKit.Harness.Measuring;

/// <summary>A set of latency samples in milliseconds, with nearest-rank percentiles.</summary>
internal sealed class Samples(string name)
{
    private readonly List<double> _values = [];
    private readonly Lock _lock = new();

    public string Name { get; } = name;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _values.Count;
            }
        }
    }

    public void Add(double milliseconds)
    {
        lock (_lock)
        {
            _values.Add(milliseconds);
        }
    }

    public void Add(TimeSpan value) => Add(value.TotalMilliseconds);

    /// <summary>Gets the nearest-rank percentile; NaN when there are no samples.</summary>
    /// <param name="percent">0 to 100.</param>
    /// <returns>The value in milliseconds.</returns>
    public double Percentile(double percent)
    {
        double[] sorted;
        lock (_lock)
        {
            sorted = [.. _values];
        }

        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        Array.Sort(sorted);
        var rank = (int)Math.Ceiling(percent / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    public double P50 => Percentile(50);

    public double P95 => Percentile(95);

    public double P99 => Percentile(99);

    public double Max => Percentile(100);

    public string Row() => string.Format(
        CultureInfo.InvariantCulture,
        "{0,-46} {1,6} {2,10:0.00} {3,10:0.00} {4,10:0.00} {5,10:0.00}",
        Name,
        Count,
        P50,
        P95,
        P99,
        Max);

    public static string Header() => string.Format(
        CultureInfo.InvariantCulture, "{0,-46} {1,6} {2,10} {3,10} {4,10} {5,10}", "stage (ms)", "n", "p50", "p95", "p99", "max");

    public static double Round(double value) => double.IsNaN(value) ? -1 : Math.Round(value, 2);
}
