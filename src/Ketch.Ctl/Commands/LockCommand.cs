using System.Diagnostics;
using Ketch.Api.Etcdserverpb;
using Ketch.Client.Concurrency;
using Mutex = Ketch.Client.Concurrency.Mutex;

namespace Ketch.Ctl.Commands;

/// <summary><c>lock &lt;lockname&gt; [exec-command ...]</c>: prints the lock key once held and keeps it until interrupted,
/// or runs the command with <c>ETCD_LOCK_KEY</c> and <c>ETCD_LOCK_REV</c> set and releases after it exits.</summary>
internal sealed class LockCommand : Command
{
    public override string Name => "lock";

    public override string Short => "Takes a named lock";

    public override string Usage => "<lockname> [exec-command arg1 arg2 ...]";

    public override IReadOnlyList<Flag> Flags => [new("ttl", Default: "10", Usage: "TTL in seconds of the session that holds the lock", Kind: FlagKind.Int)];

    public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
    {
        if (args.Positional.Count == 0)
        {
            throw CtlContext.BadArgs("lock takes a lock name argument and an optional command to execute");
        }
        using var client = ctx.Client();
        await using var session = await Session.CreateAsync(client, args.Long("ttl"), ctx.Interrupt).ConfigureAwait(false);
        var mutex = new Mutex(session, args.Positional[0]);
        await mutex.LockAsync(ctx.Interrupt).ConfigureAwait(false);
        try
        {
            if (args.Positional.Count > 1)
            {
                return await RunLockedAsync(ctx, mutex, args.Positional[1], args.Positional.Skip(2)).ConfigureAwait(false);
            }
            // etcdctl reads the key back and prints it as `get` does (the key, then its empty value).
            RangeResponse held;
            using (var get = ctx.Timeout())
            {
                held = await client.Kv.GetAsync(mutex.Key, cancellationToken: get.Token).ConfigureAwait(false);
            }
            if (held.Kvs.Count == 0)
            {
                throw new CtlException(ExitCode.Error, "lock lost on init");
            }
            ctx.Printer().Get(held);
            // Held and printed: an interrupt now means unlock and exit 0, as etcdctl, so it must not cancel the flush.
            await ctx.Out.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            using var done = CancellationTokenSource.CreateLinkedTokenSource(ctx.Interrupt, session.Done);
            await Task.Delay(Timeout.Infinite, done.Token).ContinueWith(_ => { }, TaskScheduler.Default).ConfigureAwait(false);
            if (session.Done.IsCancellationRequested)
            {
                throw new CtlException(ExitCode.Error, "session expired");
            }
            return 0;
        }
        finally
        {
            using var unlock = new CancellationTokenSource(ctx.CommandTimeout);
            await mutex.UnlockAsync(unlock.Token).ConfigureAwait(false);
        }
    }

    /// <summary>Runs the command while the lock is held. As etcdctl (Go's <c>exec.Cmd.Run</c>), a command that
    /// fails ends ketchctl with <c>Error: exit status N</c> and exit code 1.</summary>
    private static async Task<int> RunLockedAsync(CtlContext ctx, Mutex mutex, string file, IEnumerable<string> arguments)
    {
        if (!file.Contains('/', StringComparison.Ordinal) && FindOnPath(file) is null)
        {
            throw new CtlException(ExitCode.Error, $"exec: {GoFormat.Quote(file)}: executable file not found in $PATH");
        }
        var psi = new ProcessStartInfo(file, arguments) { UseShellExecute = false };
        psi.Environment["ETCD_LOCK_KEY"] = mutex.Key;
        psi.Environment["ETCD_LOCK_REV"] = GoFormat.D(mutex.Revision);
        Process? p;
        try
        {
            p = Process.Start(psi);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new CtlException(ExitCode.Error, $"fork/exec {file}: {(File.Exists(file) ? "permission denied" : "no such file or directory")}");
        }
        using (p)
        {
            if (p is null)
            {
                throw new CtlException(ExitCode.Error, "could not start the command");
            }
            await p.WaitForExitAsync(ctx.Interrupt).ConfigureAwait(false);
            return p.ExitCode == 0 ? 0 : throw new CtlException(ExitCode.Error, $"exit status {GoFormat.D(p.ExitCode)}");
        }
    }

    /// <summary>Go's <c>exec.LookPath</c> for a bare name, roughly: a file in a directory of PATH.</summary>
    private static string? FindOnPath(string file)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, file);
            if (File.Exists(path))
            {
                return path;
            }
        }
        return null;
    }
}
