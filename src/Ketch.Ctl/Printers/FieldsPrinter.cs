using Ketch.Api.Etcdserverpb;
using Ketch.Api.Mvccpb;

namespace Ketch.Ctl.Printers;

/// <summary>The <c>fields</c> format: one <c>"Name" : value</c> line per field, strings quoted as Go's %q.</summary>
internal sealed class FieldsPrinter(TextWriter output) : Printer(output)
{
    protected override string Name => "fields";

    private void Line(string name, string value) => Out.Write($"\"{name}\" : {value}\n");

    private void Hdr(ResponseHeader? h)
    {
        h ??= new ResponseHeader();
        Line("ClusterID", GoFormat.D(h.ClusterId));
        Line("MemberID", GoFormat.D(h.MemberId));
        Line("Revision", GoFormat.D(h.Revision));
        Line("RaftTerm", GoFormat.D(h.RaftTerm));
    }

    private void Kv(string pfx, KeyValue kv)
    {
        Line(pfx + "Key", GoFormat.Quote(kv.Key.Span));
        Line(pfx + "CreateRevision", GoFormat.D(kv.CreateRevision));
        Line(pfx + "ModRevision", GoFormat.D(kv.ModRevision));
        Line(pfx + "Version", GoFormat.D(kv.Version));
        Line(pfx + "Value", GoFormat.Quote(kv.Value.Span));
        Line(pfx + "Lease", GoFormat.D(kv.Lease));
    }

    public override void Get(RangeResponse r)
    {
        Hdr(r.Header);
        foreach (var kv in r.Kvs)
        {
            Kv("", kv);
        }
        Line("More", GoFormat.Bool(r.More));
        Line("Count", GoFormat.D(r.Count));
    }

    public override void Put(PutResponse r)
    {
        Hdr(r.Header);
        if (r.PrevKv is not null)
        {
            Kv("Prev", r.PrevKv);
        }
    }

    public override void Del(DeleteRangeResponse r)
    {
        Hdr(r.Header);
        Line("Deleted", GoFormat.D(r.Deleted));
        foreach (var kv in r.PrevKvs)
        {
            Kv("Prev", kv);
        }
    }

    public override void Txn(TxnResponse r)
    {
        Hdr(r.Header);
        Line("Succeeded", GoFormat.Bool(r.Succeeded));
        foreach (var op in r.Responses)
        {
            switch (op.ResponseCase)
            {
                case ResponseOp.ResponseOneofCase.ResponseRange: Get(op.ResponseRange); break;
                case ResponseOp.ResponseOneofCase.ResponsePut: Put(op.ResponsePut); break;
                case ResponseOp.ResponseOneofCase.ResponseDeleteRange: Del(op.ResponseDeleteRange); break;
                default: break;
            }
        }
    }

    public override void Watch(WatchResponse r)
    {
        Hdr(r.Header);
        foreach (var e in r.Events)
        {
            Line("Type", e.Type == Event.Types.EventType.Put ? "PUT" : "DELETE");
            if (e.PrevKv is not null)
            {
                Kv("Prev", e.PrevKv);
            }
            Kv("", e.Kv);
        }
    }

    public override void Grant(LeaseGrantResponse r)
    {
        Hdr(r.Header);
        Line("ID", GoFormat.D(r.ID));
        Line("TTL", GoFormat.D(r.TTL));
    }

    public override void Revoke(long id, LeaseRevokeResponse r) => Hdr(r.Header);

    public override void KeepAlive(LeaseKeepAliveResponse r)
    {
        Hdr(r.Header);
        Line("ID", GoFormat.D(r.ID));
        Line("TTL", GoFormat.D(r.TTL));
    }

    public override void TimeToLive(LeaseTimeToLiveResponse r, bool keys)
    {
        Hdr(r.Header);
        Line("ID", GoFormat.D(r.ID));
        Line("TTL", GoFormat.D(r.TTL));
        Line("GrantedTTL", GoFormat.D(r.GrantedTTL));
        foreach (var k in r.Keys)
        {
            Line("Key", GoFormat.Quote(k.Span));
        }
    }

    public override void Leases(LeaseLeasesResponse r)
    {
        Hdr(r.Header);
        foreach (var l in r.Leases)
        {
            Line("ID", GoFormat.D(l.ID));
        }
    }

    public override void MemberAdd(MemberAddResponse r) => Members(r.Header, r.Members);

    public override void MemberRemove(ulong id, MemberRemoveResponse r) => Members(r.Header, r.Members);

    public override void MemberUpdate(ulong id, MemberUpdateResponse r) => Members(r.Header, r.Members);

    public override void MemberPromote(ulong id, MemberPromoteResponse r) => Members(r.Header, r.Members);

    public override void MemberList(MemberListResponse r) => Members(r.Header, r.Members);

    private void Members(ResponseHeader h, IEnumerable<Member> members)
    {
        Hdr(h);
        foreach (var m in members)
        {
            Line("ID", GoFormat.D(m.ID));
            Line("Name", GoFormat.Quote(m.Name));
            foreach (var u in m.PeerURLs)
            {
                Line("PeerURL", GoFormat.Quote(u));
            }
            foreach (var u in m.ClientURLs)
            {
                Line("ClientURL", GoFormat.Quote(u));
            }
            Line("IsLearner", GoFormat.Bool(m.IsLearner));
            Out.Write('\n');
        }
    }

    public override void EndpointHealth(IReadOnlyList<EndpointHealth> list)
    {
        foreach (var h in list)
        {
            Line("Endpoint", GoFormat.Quote(h.Endpoint));
            Line("Health", GoFormat.Bool(h.Health));
            Line("Took", GoFormat.Duration(h.Took));
            Line("Error", h.Error);
            Out.Write('\n');
        }
    }

    public override void EndpointStatus(IReadOnlyList<EndpointStatus> list)
    {
        foreach (var ep in list)
        {
            var s = ep.Status;
            Hdr(s.Header);
            Line("Version", GoFormat.Quote(s.Version));
            Line("DBSize", GoFormat.D(s.DbSize));
            Line("Leader", GoFormat.D(s.Leader));
            Line("IsLearner", GoFormat.Bool(s.IsLearner));
            Line("RaftIndex", GoFormat.D(s.RaftIndex));
            Line("RaftTerm", GoFormat.D(s.RaftTerm));
            Line("RaftAppliedIndex", GoFormat.D(s.RaftAppliedIndex));
            Line("Errors", "[" + string.Join(" ", s.Errors) + "]");
            Line("Endpoint", GoFormat.Quote(ep.Endpoint));
            Out.Write('\n');
        }
    }

    public override void EndpointHashKV(IReadOnlyList<EndpointHash> list)
    {
        foreach (var h in list)
        {
            Hdr(h.Hash.Header);
            Line("Endpoint", GoFormat.Quote(h.Endpoint));
            Line("Hash", GoFormat.D(h.Hash.Hash));
            Out.Write('\n');
        }
    }

    public override void Alarm(AlarmResponse r)
    {
        Hdr(r.Header);
        foreach (var a in r.Alarms)
        {
            Line("MemberID", GoFormat.D(a.MemberID));
            Line("AlarmType", a.Alarm.ToString().ToUpperInvariant());
            Out.Write('\n');
        }
    }

    public override void MoveLeader(ulong leader, ulong target, MoveLeaderResponse r) => Hdr(r.Header);

    public override void DBStatus(Snapshot.SnapshotStatus s)
    {
        Line("Hash", GoFormat.D((ulong)s.Hash));
        Line("Revision", GoFormat.D(s.Revision));
        Line("Keys", GoFormat.D(s.TotalKey));
        Line("Size", GoFormat.D(s.TotalSize));
    }
}
