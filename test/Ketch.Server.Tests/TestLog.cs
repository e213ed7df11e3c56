using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ketch.Server.Tests;

/// <summary>Member logs on the console when KETCH_TEST_LOG is set (for diagnosing a failing test).</summary>
internal static class TestLog
{
    public static ILoggerFactory Factory() =>
        Environment.GetEnvironmentVariable("KETCH_TEST_LOG") is { Length: > 0 }
            ? LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true)
                .SetMinimumLevel(LogLevel.Information)
                .AddFilter("Microsoft", LogLevel.Warning))
            : NullLoggerFactory.Instance;
}
