using Ketch.Api.Etcdserverpb;
using Ketch.Api.Mvccpb;

namespace Ketch.Ctl.Printers;

/// <summary>The default <c>simple</c> format: keys and values on their own lines, one-line summaries.</summary>
internal sealed class SimplePrinter(TextWriter output, bool hex, bool valueOnly) : Printer(output)
{
    protected override string Name => "simple";

    private void Kv(KeyValue kv)
    {
        if (!valueOnly)
        {
            Out.Write(hex ? GoFormat.Hex(kv.Key.Span) : kv.Key.ToStringUtf8Raw());
            Out.Write('\n');
        }
        Out.Write(hex ? GoFormat.Hex(kv.Value.Span) : kv.Value.ToStringUtf8Raw());
        Out.Write('\n');
    }

    public override void Get(RangeResponse r)
    {
        foreach (var kv in r.Kvs)
        {
            Kv(kv);
        }
    }

    public override void Put(PutResponse r)
    {
        Out.Write("OK\n");
        if (r.PrevKv is not null)
        {
            Kv(r.PrevKv);
        }
    }

    public override void Del(DeleteRangeResponse r)
    {
        Out.Write(GoFormat.D(r.Deleted) + "\n");
        foreach (var kv in r.PrevKvs)
        {
            Kv(kv);
        }
    }

    public override void Txn(TxnResponse r)
    {
        Out.Write(r.Succeeded ? "SUCCESS\n" : "FAILURE\n");
        foreach (var op in r.Responses)
        {
            Out.Write('\n');
            switch (op.ResponseCase)
            {
                case ResponseOp.ResponseOneofCase.ResponseRange: Get(op.ResponseRange); break;
                case ResponseOp.ResponseOneofCase.ResponsePut: Put(op.ResponsePut); break;
                case ResponseOp.ResponseOneofCase.ResponseDeleteRange: Del(op.ResponseDeleteRange); break;
                default: Out.Write($"unexpected response {op}\n"); break;
            }
        }
    }

    public override void Watch(WatchResponse r)
    {
        foreach (var e in r.Events)
        {
            Out.Write(e.Type == Event.Types.EventType.Put ? "PUT\n" : "DELETE\n");
            if (e.PrevKv is not null)
            {
                Kv(e.PrevKv);
            }
            Kv(e.Kv);
        }
    }

    public override void Grant(LeaseGrantResponse r) =>
        Out.Write($"lease {GoFormat.X016(r.ID)} granted with TTL({GoFormat.D(r.TTL)}s)\n");

    public override void Revoke(long id, LeaseRevokeResponse r) => Out.Write($"lease {GoFormat.X016(id)} revoked\n");

    public override void KeepAlive(LeaseKeepAliveResponse r) =>
        Out.Write($"lease {GoFormat.X016(r.ID)} keepalived with TTL({GoFormat.D(r.TTL)})\n");

    public override void TimeToLive(LeaseTimeToLiveResponse r, bool keys)
    {
        if (r.GrantedTTL == 0 && r.TTL == -1)
        {
            Out.Write($"lease {GoFormat.X016(r.ID)} already expired\n");
            return;
        }
        var txt = $"lease {GoFormat.X016(r.ID)} granted with TTL({GoFormat.D(r.GrantedTTL)}s), remaining({GoFormat.D(r.TTL)}s)";
        if (keys)
        {
            txt += $", attached keys([{string.Join(" ", r.Keys.Select(k => k.ToStringUtf8Raw()))}])";
        }
        Out.Write(txt + "\n");
    }

    public override void Leases(LeaseLeasesResponse r)
    {
        Out.Write($"found {r.Leases.Count} leases\n");
        foreach (var l in r.Leases)
        {
            Out.Write(GoFormat.X016(l.ID) + "\n");
        }
    }

    public override void MemberAdd(MemberAddResponse r) =>
        Out.Write($"Member {GoFormat.X16(r.Member.ID)} added to cluster {GoFormat.X16(r.Header.ClusterId)}\n");

    public override void MemberRemove(ulong id, MemberRemoveResponse r) =>
        Out.Write($"Member {GoFormat.X16(id)} removed from cluster {GoFormat.X16(r.Header.ClusterId)}\n");

    public override void MemberUpdate(ulong id, MemberUpdateResponse r) =>
        Out.Write($"Member {GoFormat.X16(id)} updated in cluster {GoFormat.X16(r.Header.ClusterId)}\n");

    public override void MemberPromote(ulong id, MemberPromoteResponse r) =>
        Out.Write($"Member {GoFormat.X16(id)} promoted in cluster {GoFormat.X16(r.Header.ClusterId)}\n");

    public override void MemberList(MemberListResponse r)
    {
        foreach (var row in MemberRows(r))
        {
            Out.Write(string.Join(", ", row) + "\n");
        }
    }

    public override void EndpointHealth(IReadOnlyList<EndpointHealth> list)
    {
        // etcdctl writes health lines to stderr; the caller passes stderr as this printer's output.
        foreach (var h in list)
        {
            Out.Write(h.Error.Length == 0
                ? $"{h.Endpoint} is healthy: successfully committed proposal: took = {GoFormat.Duration(h.Took)}\n"
                : $"{h.Endpoint} is unhealthy: failed to commit proposal: {h.Error}\n");
        }
    }

    public override void EndpointStatus(IReadOnlyList<EndpointStatus> r)
    {
        foreach (var row in StatusRows(r))
        {
            Out.Write(string.Join(", ", row) + "\n");
        }
    }

    public override void EndpointHashKV(IReadOnlyList<EndpointHash> r)
    {
        foreach (var row in HashRows(r))
        {
            Out.Write(string.Join(", ", row) + "\n");
        }
    }

    public override void Alarm(AlarmResponse r)
    {
        foreach (var a in r.Alarms)
        {
            Out.Write($"memberID:{GoFormat.D(a.MemberID)} alarm:{a.Alarm.ToString().ToUpperInvariant()} \n");
        }
    }

    public override void MoveLeader(ulong leader, ulong target, MoveLeaderResponse r) =>
        Out.Write($"Leadership transferred from {GoFormat.X(leader)} to {GoFormat.X(target)}\n");

    public override void DBStatus(Snapshot.SnapshotStatus s) => Out.Write(string.Join(", ", DBStatusRow(s)) + "\n");
}

/// <summary>Byte strings printed as Go's <c>string(b)</c>: raw bytes, no re-encoding.</summary>
internal static class ByteStringText
{
    /// <summary>The bytes as a string; invalid UTF-8 passes through as Latin-1-ish replacement-free bytes is not
    /// possible in .NET strings, so the console writer is set to UTF-8 and invalid sequences become U+FFFD.</summary>
    public static string ToStringUtf8Raw(this Google.Protobuf.ByteString b) => b.ToStringUtf8();
}
