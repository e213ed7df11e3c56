using Ketch.Server;

namespace Ketch.Ctl.Commands;

/// <summary><c>migrate --data-dir dir</c>: etcdctl 3.4 moves the keys of etcd's v2 store (rebuilt from the data
/// directory's v2 snapshot and WAL) into its v3 backend. Ketch has never had a v2 store: every key of a ketch
/// data directory is in the v3 (mvcc) backend already. So on a ketch data directory ketchctl says what etcdctl
/// says on an etcd data directory that holds only v3 keys, <c>no v2 keys to migrate</c>, and exits 0, so that an
/// upgrade script that runs it goes on. It cannot read etcd's v2 store: an etcd data directory is refused by name
/// (migrate it with etcdctl 3.4). A directory that is neither fails as etcdctl fails on it, with the path it
/// looked for.</summary>
internal sealed class MigrateCommand : Command
{
    public override string Name => "migrate";

    public override string Short => "Migrates keys in a v2 store to a mvcc store (a ketch data directory has none)";

    public override IReadOnlyList<Flag> Flags =>
    [
        new("data-dir", Usage: "the data directory to migrate"),
        new("wal-dir", Usage: "the WAL directory, when it is not inside --data-dir (ketch's WAL has no v2 entries either)"),
        new("no-ttl", IsBool: true, Usage: "do not convert keys with a TTL (there are none to convert)"),
        new("transformer", Usage: "the program that transforms the v2 keys (never run: there are none)"),
    ];

    public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
    {
        if (args.Get("transformer").Length == 0)
        {
            await ctx.Out.WriteAsync("using default transformer\n").ConfigureAwait(false);
        }
        var dataDir = args.Get("data-dir");
        var kv = OfflineDefrag.BackendDirectory(dataDir);
        if (File.Exists(Path.Combine(kv, "CURRENT")))
        {
            await ctx.Out.WriteAsync("no v2 keys to migrate\n").ConfigureAwait(false);
            return 0;
        }
        if (Directory.Exists(Path.Combine(dataDir, "member", "snap")) && Directory.Exists(Path.Combine(dataDir, "member", "wal")))
        {
            throw new CtlException(ExitCode.Error,
                $"{dataDir} is an etcd data directory: ketchctl cannot read etcd's v2 store (migrate it with etcdctl 3.4)");
        }
        throw new CtlException(ExitCode.Error, $"open {kv}: no such file or directory");
    }
}
