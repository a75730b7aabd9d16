namespace AvatarKit.Harness.Measuring;

/// <summary>Samples the process's resident set and managed heap at a fixed interval.</summary>
internal sealed class MemorySampler
{
    private const double Mb = 1024 * 1024;
    private readonly List<(long Rss, long Managed)> _samples = [];

    public double PeakMb { get; private set; }

    /// <summary>Gets the drift: median RSS of the last tenth of the run minus that of the second tenth (after warm-up).</summary>
    public double DriftMb => Drift(s => s.Rss);

    public double ManagedDriftMb => Drift(s => s.Managed);

    public async Task RunAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            do
            {
                var rss = Environment.WorkingSet;
                _samples.Add((rss, GC.GetTotalMemory(forceFullCollection: false)));
                PeakMb = Math.Max(PeakMb, rss / Mb);
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private double Drift(Func<(long Rss, long Managed), long> value)
    {
        if (_samples.Count < 10)
        {
            return double.NaN;
        }

        var tenth = _samples.Count / 10;
        return (Median(_samples.Skip(_samples.Count - tenth).Select(value)) - Median(_samples.Skip(tenth).Take(tenth).Select(value))) / Mb;
    }

    private static double Median(IEnumerable<long> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted[sorted.Length / 2];
    }
}
