using System.Diagnostics;
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
            throw CtlContext.BadArgs("lock takes a lock name argument and an optional command to execute.");
        }
        using var client = ctx.Client();
        await using var session = await Session.CreateAsync(client, args.Long("ttl"), ctx.Interrupt).ConfigureAwait(false);
        var mutex = new Mutex(session, args.Positional[0]);
        await mutex.LockAsync(ctx.Interrupt).ConfigureAwait(false);
        try
        {
            if (args.Positional.Count > 1)
            {
                var psi = new ProcessStartInfo(args.Positional[1], args.Positional.Skip(2)) { UseShellExecute = false };
                psi.Environment["ETCD_LOCK_KEY"] = mutex.Key;
                psi.Environment["ETCD_LOCK_REV"] = GoFormat.D(mutex.Revision);
                using var p = Process.Start(psi) ?? throw new CtlException(ExitCode.Error, "could not start the command");
                await p.WaitForExitAsync(ctx.Interrupt).ConfigureAwait(false);
                return p.ExitCode;
            }
            await ctx.Out.WriteAsync(mutex.Key + "\n").ConfigureAwait(false);
            await ctx.Out.FlushAsync(ctx.Interrupt).ConfigureAwait(false);
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
            using var cts = ctx.Timeout();
            using var unlock = new CancellationTokenSource(ctx.CommandTimeout);
            await mutex.UnlockAsync(unlock.Token).ConfigureAwait(false);
        }
    }
}
