using System.Globalization;

namespace Ketch.Server.Tests;

/// <summary>Reads series from a <c>/metrics</c> page (Prometheus text format).</summary>
internal static class PrometheusText
{
    /// <summary>The value of exactly one line <c>series value</c>; <paramref name="series"/> with its labels.</summary>
    public static double Value(string metrics, string series) =>
        double.Parse(metrics.Split('\n').Single(l => l.StartsWith(series + " ", StringComparison.Ordinal))[(series.Length + 1)..], CultureInfo.InvariantCulture);

    /// <summary><see cref="Value"/>, or 0 when the page has no such series (not created yet).</summary>
    public static double ValueOr0(string metrics, string series) =>
        metrics.Split('\n').Any(l => l.StartsWith(series + " ", StringComparison.Ordinal)) ? Value(metrics, series) : 0;
}
