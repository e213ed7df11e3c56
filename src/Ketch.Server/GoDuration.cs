using System.Globalization;

namespace Ketch.Server;

/// <summary>
/// Go's duration syntax, which etcd's duration flags and its JWT <c>ttl=</c> option take
/// (<c>5s</c>, <c>10m</c>, <c>1h30m</c>, <c>100ms</c>, <c>1.5s</c>, <c>0</c>). A bare number other
/// than 0 is not a duration, as in Go.
/// </summary>
internal static class GoDuration
{
    /// <summary>Go's <c>time.ParseDuration</c> for non-negative values (<c>300ms</c>, <c>5m</c>,
    /// <c>1h30m</c>; units ns, us, µs, ms, s, m, h); null when malformed.</summary>
    public static TimeSpan? Parse(string text)
    {
        if (text == "0")
        {
            return TimeSpan.Zero;
        }
        var ticks = 0.0;
        var i = 0;
        if (text.Length == 0)
        {
            return null;
        }
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }
            if (!double.TryParse(text.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return null;
            }
            var unitStart = i;
            while (i < text.Length && !char.IsAsciiDigit(text[i]) && text[i] != '.')
            {
                i++;
            }
            double? unitTicks = text[unitStart..i] switch
            {
                "ns" => TimeSpan.TicksPerMillisecond / 1e6,
                "us" or "µs" or "μs" => TimeSpan.TicksPerMillisecond / 1e3,
                "ms" => TimeSpan.TicksPerMillisecond,
                "s" => TimeSpan.TicksPerSecond,
                "m" => TimeSpan.TicksPerMinute,
                "h" => TimeSpan.TicksPerHour,
                _ => null,
            };
            if (unitTicks is null)
            {
                return null;
            }
            ticks += number * unitTicks.Value;
        }
        return ticks > TimeSpan.MaxValue.Ticks ? null : TimeSpan.FromTicks((long)ticks);
    }
}
