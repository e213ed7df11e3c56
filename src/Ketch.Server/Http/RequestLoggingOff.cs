using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ketch.Server.Http;

/// <summary>
/// The member's logger factory as ASP.NET Core sees it, without the per-request hosting logger,
/// and with gRPC's call handler at warnings and above.
/// </summary>
/// <remarks>
/// When its "Microsoft.AspNetCore.Hosting.Diagnostics" logger is enabled at any level, ASP.NET
/// Core starts an <see cref="System.Diagnostics.Activity"/> and a logging scope for every request
/// (an async-local write, so every continuation of the call carries a new execution context). That
/// was about 4 % of a leader's allocations under 1,000 put clients, for "request starting/finished"
/// lines that ketch never prints (etcd logs no per-request lines either).
/// <para>gRPC's call handler logs every call a client ends early at Information ("Service method
/// 'LeaseKeepAlive' canceled"): a leader logged one such line per keep-alive stream its followers
/// forward and close (107 lines in one Patroni test run, where etcd logs none); its warnings and
/// errors still go through. Every other category, Kestrel's errors included, goes to the member's
/// own factory.</para>
/// </remarks>
internal sealed class RequestLoggingOff(ILoggerFactory inner) : ILoggerFactory
{
    private const string HostingDiagnostics = "Microsoft.AspNetCore.Hosting.Diagnostics";
    private const string GrpcCallHandler = "Grpc.AspNetCore.Server.ServerCallHandler";

    public ILogger CreateLogger(string categoryName) => categoryName switch
    {
        HostingDiagnostics => NullLogger.Instance,
        GrpcCallHandler => new WarningsOnly(inner.CreateLogger(categoryName)),
        _ => inner.CreateLogger(categoryName),
    };

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    // The member's factory belongs to whoever created the member (the host or the executable).
    public void Dispose()
    {
    }

    private sealed class WarningsOnly(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
