using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using Ketch.Api.Mvccpb;
using Ketch.Client;

namespace Ketch.Ctl.Commands;

/// <summary><c>make-mirror [options] &lt;destination&gt;</c>, as etcdctl 3.4 (its <c>makeMirror</c> over clientv3's
/// <c>mirror.Syncer</c>): copies the keys under <c>--prefix</c> as of one revision to the destination cluster, then
/// follows a watch from that revision + 1 and applies each revision's puts and deletes there in one Txn, until
/// interrupted. Keys are renamed by replacing the prefix with <c>--dest-prefix</c> (by default the prefix itself;
/// with <c>--no-dest-prefix</c>, nothing). Every 30 s it prints how many keys it has synced so far.</summary>
internal sealed class MakeMirrorCommand : Command
{
    /// <summary>How often etcdctl prints the running count (its goroutine sleeps 30 s between prints).</summary>
    internal static readonly TimeSpan CountInterval = TimeSpan.FromSeconds(30);

    /// <summary>clientv3/mirror's page size for the base copy.</summary>
    private const int BatchLimit = 1000;

    public override string Name => "make-mirror";

    public override string Short => "Makes a mirror at the destination etcd cluster";

    public override string Usage => "[options] <destination>";

    public override IReadOnlyList<Flag> Flags =>
    [
        new("prefix", Usage: "the prefix of the keys to mirror"),
        new("dest-prefix", Usage: "the prefix the mirrored keys get at the destination, instead of --prefix"),
        new("no-dest-prefix", IsBool: true, Usage: "mirror the keys to the root of the destination (without --prefix)"),
        new("dest-cert", Usage: "the TLS certificate file that identifies the client to the destination"),
        new("dest-key", Usage: "the TLS key file of --dest-cert"),
        new("dest-cacert", Usage: "the CA bundle to verify the destination's TLS servers with"),
        new("dest-insecure-transport", IsBool: true, Default: "true", Usage: "connect to the destination without TLS"),
    ];

    public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
    {
        if (args.Positional.Count != 1)
        {
            throw CtlContext.BadArgs("make-mirror takes one destination argument");
        }
        // etcdctl checks this once the source has answered its first read; the outcome is the same.
        var prefix = args.Get("prefix");
        var noDestPrefix = args.Bool("no-dest-prefix");
        var destPrefix = args.Get("dest-prefix");
        if (noDestPrefix && destPrefix.Length > 0)
        {
            throw CtlContext.BadArgs("`--dest-prefix` and `--no-dest-prefix` cannot be set at the same time, choose one");
        }
        if (!noDestPrefix && destPrefix.Length == 0)
        {
            destPrefix = prefix;
        }
        string? File(string flag) => args.Get(flag) is { Length: > 0 } f ? f : null;
        using var dest = ctx.Client([args.Positional[0]], File("dest-cacert"), File("dest-cert"), File("dest-key"), args.Bool("dest-insecure-transport"));
        using var source = ctx.Client();
        var mirror = new Mirror(source, dest, KvFlags.KeyBytes(prefix), KvFlags.KeyBytes(destPrefix));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ctx.Interrupt);
        var counter = PrintCountAsync(ctx, mirror, stop.Token);
        try
        {
            // etcdctl's requests here carry no deadline (Go's empty context): only an interrupt ends them.
            await mirror.RunAsync(ctx.Interrupt).ConfigureAwait(false);
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && ctx.Interrupt.IsCancellationRequested)
        {
            throw new OperationCanceledException(ctx.Interrupt);
        }
        catch (WatchCompactedException)
        {
            throw new CtlException(ExitCode.Error, "etcdserver: mvcc: required revision has been compacted");
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await counter.ConfigureAwait(false);
        }
        // The watch never ends by itself; etcdctl exits 1 (with a nil error) if its channel closes.
        throw new CtlException(ExitCode.Error, "watch is canceled by the server");
    }

    /// <summary>etcdctl's counter goroutine: the total, one line every <see cref="CountInterval"/>.</summary>
    private static async Task PrintCountAsync(CtlContext ctx, Mirror mirror, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(CountInterval, ctx.Clock);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                await ctx.Out.WriteAsync($"{mirror.Total}\n").ConfigureAwait(false);
                await ctx.Out.FlushAsync(ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The mirror ended: so does the count.
        }
    }

    /// <summary>One mirroring session: the base copy, then the updates.</summary>
    private sealed class Mirror(KetchClient source, KetchClient dest, ByteString prefix, ByteString destPrefix)
    {
        private long _total;

        /// <summary>Keys put or deleted at the destination so far.</summary>
        public long Total => Interlocked.Read(ref _total);

        public async Task RunAsync(CancellationToken ct)
        {
            var revision = await SyncBaseAsync(ct).ConfigureAwait(false);
            await SyncUpdatesAsync(revision, ct).ConfigureAwait(false);
        }

        /// <summary>mirror.Syncer's SyncBase: the revision of a linearizable read (of the key <c>foo</c>, as clientv3
        /// reads it), then the prefix at that revision in pages of 1,000 keys, each key put at the destination.</summary>
        private async Task<long> SyncBaseAsync(CancellationToken ct)
        {
            var revision = (await source.Kv.GetAsync("foo", cancellationToken: ct).ConfigureAwait(false)).Header.Revision;
            // No prefix: every key, from the smallest ("\0") on.
            var key = prefix.IsEmpty ? KeyRange.FromKeyEnd : prefix;
            var end = prefix.IsEmpty ? KeyRange.FromKeyEnd : KeyRange.PrefixEnd(prefix);
            while (true)
            {
                var page = await source.Kv.GetAsync(key, new GetOptions { RangeEnd = end, Limit = BatchLimit, Revision = revision }, ct)
                    .ConfigureAwait(false);
                foreach (var kv in page.Kvs)
                {
                    await dest.Kv.PutAsync(DestKey(kv.Key), kv.Value, cancellationToken: ct).ConfigureAwait(false);
                    Interlocked.Increment(ref _total);
                }
                if (!page.More || page.Kvs.Count == 0)
                {
                    return revision;
                }
                // The next page starts just after the last key: the key with a 0 byte appended.
                var last = page.Kvs[^1].Key;
                key = ByteString.CopyFrom([.. last.Span, 0]);
            }
        }

        /// <summary>SyncUpdates: the prefix watched from <paramref name="revision"/> + 1; the events of one revision go to
        /// the destination in one Txn, so a source Txn stays atomic there.</summary>
        private async Task SyncUpdatesAsync(long revision, CancellationToken ct)
        {
            var options = new WatchOptions { StartRevision = revision + 1, Prefix = !prefix.IsEmpty, FromKey = prefix.IsEmpty };
            var stream = source.Watch.Watch(prefix.IsEmpty ? KeyRange.FromKeyEnd : prefix, options);
            await foreach (var r in stream.WithCancellation(ct).ConfigureAwait(false))
            {
                if (r.CompactRevision != 0)
                {
                    throw new WatchCompactedException(r.CompactRevision, revision + 1);
                }
                var ops = new List<RequestOp>();
                long lastRevision = 0;
                foreach (var e in r.Events)
                {
                    if (lastRevision != 0 && e.Kv.ModRevision > lastRevision)
                    {
                        await CommitAsync(ops, ct).ConfigureAwait(false);
                        ops.Clear();
                    }
                    lastRevision = e.Kv.ModRevision;
                    ops.Add(e.Type == Event.Types.EventType.Put ? Op.Put(DestKey(e.Kv.Key), e.Kv.Value) : Op.Delete(DestKey(e.Kv.Key)));
                    Interlocked.Increment(ref _total);
                }
                await CommitAsync(ops, ct).ConfigureAwait(false);
            }
        }

        private async Task CommitAsync(List<RequestOp> ops, CancellationToken ct)
        {
            if (ops.Count > 0)
            {
                var txn = new TxnRequest();
                txn.Success.AddRange(ops);
                await dest.Kv.TxnAsync(txn, ct).ConfigureAwait(false);
            }
        }

        /// <summary>etcdctl's modifyPrefix: the first occurrence of the prefix replaced by the destination prefix
        /// (Go's <c>strings.Replace(key, prefix, destPrefix, 1)</c>; an empty prefix occurs at the start).</summary>
        private ByteString DestKey(ByteString key)
        {
            var at = key.Span.IndexOf(prefix.Span);
            if (at < 0)
            {
                return key;
            }
            return ByteString.CopyFrom([.. key.Span[..at], .. destPrefix.Span, .. key.Span[(at + prefix.Length)..]]);
        }
    }
}
