using Grpc.Core;
using Ketch.Ctl.Snapshot;
using Ketch.Server;

namespace Ketch.Ctl.Commands;

/// <summary><c>snapshot save|status|restore</c>, as etcdctl 3.4 (which links etcd's server packages for restore; so
/// does ketchctl: restore writes a ketch data directory).</summary>
internal static class SnapshotCommand
{
    public static Command[] All => [new Save(), new Status(), new Restore()];

    /// <summary>The group's word, for help.</summary>
    public static CommandGroup Group { get; } = new("snapshot", "Commands on member snapshots");

    /// <summary><c>snapshot save &lt;filename&gt;</c>: streams the member's backend to <c>filename.part</c>, then renames it.
    /// Failures after the arguments are checked exit with 5, as etcdctl's.</summary>
    private sealed class Save : Command
    {
        public override string Name => "snapshot save";

        public override string Short => "Writes the backend snapshot of a member to a file";

        public override string Usage => "<filename>";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 1)
            {
                throw CtlContext.BadArgs("snapshot save expects one argument");
            }
            if (ctx.Endpoints.Count != 1)
            {
                throw new CtlException(ExitCode.Interrupted, $"snapshot must be requested to one selected node, not multiple [{string.Join(" ", ctx.Endpoints)}]");
            }
            var path = args.Positional[0];
            var part = path + ".part";
            using var client = ctx.Client();
            // etcdctl sets no deadline unless --command-timeout is given.
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ctx.Interrupt);
            if (args.IsSet("command-timeout"))
            {
                cts.CancelAfter(ctx.CommandTimeout);
            }
            try
            {
                long size;
                var mode = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    // etcd writes the file with mode 0600 (fileutil.PrivateFileMode).
                    mode.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }
                await using (var file = new FileStream(part, mode))
                {
                    size = await client.Maintenance.SnapshotAsync(file, null, cts.Token).ConfigureAwait(false);
                    await file.FlushAsync(cts.Token).ConfigureAwait(false);
                    file.Flush(flushToDisk: true);
                }
                if (size % 512 != 32)
                {
                    throw new CtlException(ExitCode.Interrupted, $"sha256 checksum not found [bytes: {size}]");
                }
                File.Move(part, path, overwrite: true);
            }
            catch (IOException ex)
            {
                throw new CtlException(ExitCode.Interrupted, ex.Message);
            }
            catch (RpcException ex)
            {
                throw new CtlException(ExitCode.Interrupted, Runner.Describe(ex));
            }
            catch (OperationCanceledException) when (!ctx.Interrupt.IsCancellationRequested)
            {
                throw new CtlException(ExitCode.Interrupted, "context deadline exceeded");
            }
            finally
            {
                File.Delete(part);
            }
            await ctx.Out.WriteAsync($"Snapshot saved at {path}\n").ConfigureAwait(false);
            return 0;
        }
    }

    /// <summary><c>snapshot status &lt;filename&gt;</c>: hash, revision, total keys, total size of a ketch or etcd snapshot.</summary>
    private sealed class Status : Command
    {
        public override string Name => "snapshot status";

        public override string Short => "Shows the status of a snapshot file";

        public override string Usage => "<filename>";

        public override string Description =>
            "In the simple output format, the status is one line of comma-separated fields:\n" +
            "hash, revision, total keys, total size.";

        public override Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 1)
            {
                throw CtlContext.BadArgs("snapshot status requires exactly one argument");
            }
            var printer = ctx.Printer();
            SnapshotStatus status;
            try
            {
                status = SnapshotStatus.Read(args.Positional[0]);
            }
            catch (IOException ex)
            {
                throw new CtlException(ExitCode.Error, ex.Message);
            }
            printer.DBStatus(status);
            return Task.FromResult(0);
        }
    }

    /// <summary><c>snapshot restore &lt;filename&gt; [options]</c>: a new data directory for the first member of a new cluster.</summary>
    private sealed class Restore : Command
    {
        public override string Name => "snapshot restore";

        public override string Short => "Makes the data directory of a new member from a snapshot";

        public override string Usage => "<filename> [options]";

        public override IReadOnlyList<Flag> Flags =>
        [
            new("data-dir", Usage: "the data directory to create"),
            new("wal-dir", Usage: "the WAL directory to create (default: inside --data-dir)"),
            new("initial-cluster", Default: "default=http://localhost:2380", Usage: "the members of the cluster the restored member starts"),
            new("initial-cluster-token", Default: "etcd-cluster", Usage: "the token of the cluster the restored member starts"),
            new("initial-advertise-peer-urls", Default: "http://localhost:2380", Usage: "the peer URLs the restored member advertises"),
            new("name", Default: "default", Usage: "the name of the restored member"),
            new("skip-hash-check", IsBool: true, Default: "false", Usage: "skip the snapshot's integrity check (needed for a db file copied from a data directory)"),
        ];

        public override Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            if (args.Positional.Count != 1)
            {
                throw CtlContext.BadArgs("snapshot restore requires exactly one argument");
            }
            try
            {
                SnapshotRestore.Run(new SnapshotRestoreOptions
                {
                    SnapshotPath = args.Positional[0],
                    Name = args.Get("name"),
                    DataDir = args.Get("data-dir"),
                    WalDir = args.Get("wal-dir"),
                    PeerUrls = args.Get("initial-advertise-peer-urls").Split(','),
                    InitialCluster = args.Get("initial-cluster"),
                    InitialClusterToken = args.Get("initial-cluster-token"),
                    SkipHashCheck = args.Bool("skip-hash-check"),
                });
            }
            catch (FileNotFoundException)
            {
                throw new CtlException(ExitCode.Error, $"open {args.Positional[0]}: no such file or directory");
            }
            catch (Exception ex) when (ex is IOException or ArgumentException or InvalidDataException or UnauthorizedAccessException)
            {
                throw new CtlException(ExitCode.Error, ex.Message);
            }
            return Task.FromResult(0);
        }
    }
}
