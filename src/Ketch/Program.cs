using Ketch;
using Ketch.Server;
using Microsoft.Extensions.Logging;

// The `ketch` executable: parse etcd's flags, environment and config file; run one member until
// SIGINT/SIGTERM.
Dictionary<string, string> values;
KetchServerOptions options;
try
{
    values = ServerFlags.ParseRaw(args, Environment.GetEnvironmentVariables());
    if (bool.Parse(values["help"]))
    {
        Console.Out.Write(ServerFlags.Usage());
        return 0;
    }
    if (bool.Parse(values["version"]))
    {
        Console.Out.Write(VersionInfo.Text());
        return 0;
    }
    options = ServerFlags.ToOptions(values);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"ketch: {e.Message}");
    Console.Error.WriteLine("Try 'ketch --help' for more information.");
    return 2;
}

// Serving from here on: with the gen0 budget set (re-executes once; --help, --version and bad flags
// above never pay for it).
GcBudget.EnsureOrReexec();

using var loggerFactory = LoggerFactory.Create(b => b
    .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ "; o.UseUtcTimestamp = true; })
    .SetMinimumLevel(VersionInfo.LogLevel(ServerFlags.LogLevel(values)))
    .AddFilter("Microsoft.AspNetCore", LogLevel.Warning)
    .AddFilter("Microsoft.AspNetCore.Server.Kestrel", LogLevel.Error));
var flagsLog = loggerFactory.CreateLogger("ketch");
foreach (var warning in ServerFlags.WithoutEffect(values))
{
    flagsLog.LogWarning("{Warning}", warning);
}
var server = new KetchServer(options with { LoggerFactory = loggerFactory });
await using (server.ConfigureAwait(false))
{
    var stop = new TaskCompletionSource();
    using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, c => { c.Cancel = true; stop.TrySetResult(); });
    using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
    try
    {
        await server.StartAsync().ConfigureAwait(false);
    }
    catch (Exception e) when (e is ArgumentException or IOException or InvalidOperationException or System.Net.Sockets.SocketException)
    {
        Console.Error.WriteLine($"ketch: cannot start: {e.Message}");
        return 1;
    }
    Console.Error.WriteLine($"ketch: member {server.MemberId:x} of cluster {server.ClusterId:x} serving clients on {string.Join(", ", options.ListenClientUrls)}");
    var ended = await Task.WhenAny(stop.Task, server.Removed, server.Failure).ConfigureAwait(false);
    if (ended == server.Failure)
    {
        // As etcd, which exits (status 1) when it cannot write its WAL or save a snapshot: a
        // supervisor restarts the member, which recovers from its data directory.
        Console.Error.WriteLine($"ketch: member {server.MemberId:x} failed and stops: {server.Failure.Result.Message}");
        return 1;
    }
    if (ended == server.Removed)
    {
        // As etcd, which exits with status 0 too. Ten heartbeats first (etcd waits ten ticks), so
        // that the answer to a removal sent through this member gets out.
        Console.Error.WriteLine($"ketch: member {server.MemberId:x} has been permanently removed from the cluster; stopping");
        await Task.Delay(TimeSpan.FromMilliseconds(10 * options.HeartbeatIntervalMs)).ConfigureAwait(false);
    }
}
return 0;
