using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ketch.Server.Http;

/// <summary>
/// The member's logger factory as ASP.NET Core sees it, without the per-request hosting logger.
/// </summary>
/// <remarks>
/// When its "Microsoft.AspNetCore.Hosting.Diagnostics" logger is enabled at any level, ASP.NET
/// Core starts an <see cref="System.Diagnostics.Activity"/> and a logging scope for every request
/// (an async-local write, so every continuation of the call carries a new execution context). That
/// was about 4 % of a leader's allocations under 1,000 put clients, for "request starting/finished"
/// lines that ketch never prints (etcd logs no per-request lines either). Every other category,
/// Kestrel's errors included, goes to the member's own factory.
/// </remarks>
internal sealed class RequestLoggingOff(ILoggerFactory inner) : ILoggerFactory
{
    private const string HostingDiagnostics = "Microsoft.AspNetCore.Hosting.Diagnostics";

    public ILogger CreateLogger(string categoryName) =>
        categoryName == HostingDiagnostics ? NullLogger.Instance : inner.CreateLogger(categoryName);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    // The member's factory belongs to whoever created the member (the host or the executable).
    public void Dispose()
    {
    }
}
