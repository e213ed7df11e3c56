using Grpc.Core;
using Ketch.Ctl.Snapshot;
using Ketch.Server;

namespace Ketch.Ctl.Commands;

/// <summary><c>snapshot save|status|restore</c>, as etcdctl 3.4 (which links etcd's server packages for restore; so
/// does ketchctl: restore writes a ketch data directory).</summary>
internal static class SnapshotCommand
{
    public static Command[] All => [new Save(), new Status(), new Restore()];

    /// <summary><c>snapshot save &lt;filename&gt;</c>: streams the member's backend to <c>filename.part</c>, then renames it.
    /// Failures after the arguments are checked exit with 5, as etcdctl's.</summary>
    private sealed class Save : Command
    {
        public override string Name => "snapshot save";

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

        public override IReadOnlyList<Flag> Flags =>
        [
            new("data-dir"), new("wal-dir"),
            new("initial-cluster", Default: "default=http://localhost:2380"),
            new("initial-cluster-token", Default: "etcd-cluster"),
            new("initial-advertise-peer-urls", Default: "http://localhost:2380"),
            new("name", Default: "default"),
            new("skip-hash-check", IsBool: true, Default: "false"),
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
