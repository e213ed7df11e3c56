using Ketch.Api.Etcdserverpb;

namespace Ketch.Ctl.Printers;

/// <summary>The <c>json</c> format: Go's encoding/json of the value etcdctl holds. Plain RPC responses print as
/// the gogo structs; clientv3's own wrapper types (watch, lease) print with their Go field names.</summary>
internal sealed class JsonPrinter(TextWriter output) : Printer(output)
{
    protected override string Name => "json";

    private void Print(Google.Protobuf.IMessage m) => Out.Write(GoJson.Of(m) + "\n");

    private void Print(GoJson j) => Out.Write(j + "\n");

    public override void Get(RangeResponse r) => Print(r);

    public override void Put(PutResponse r) => Print(r);

    public override void Del(DeleteRangeResponse r) => Print(r);

    public override void Txn(TxnResponse r) => Print(r);

    public override void Watch(WatchResponse r)
    {
        // clientv3.WatchResponse: Header (a value), Events, CompactRevision, Canceled, Created; no tags, no omitempty.
        // clientv3's dispatchEvent always makes the Events slice, so a response without events prints [].
        var j = new GoJson().Begin().Key("Header").Message(r.Header ?? new ResponseHeader()).Key("Events").BeginArray();
        foreach (var e in r.Events)
        {
            j.Message(e);
        }
        j.EndArray();
        j.Key("CompactRevision").Number(r.CompactRevision).Key("Canceled").Bool(r.Canceled).Key("Created").Bool(r.Created).End();
        Print(j);
    }

    private static GoJson Header(ResponseHeader? h) => new GoJson().Begin().Message(h ?? new ResponseHeader(), inline: true);

    public override void Grant(LeaseGrantResponse r) =>
        Print(Header(r.Header).Key("ID").Number(r.ID).Key("TTL").Number(r.TTL).Key("Error").String(r.Error).End());

    public override void Revoke(long id, LeaseRevokeResponse r) => Print(r);

    public override void KeepAlive(LeaseKeepAliveResponse r) =>
        Print(Header(r.Header).Key("ID").Number(r.ID).Key("TTL").Number(r.TTL).End());

    public override void TimeToLive(LeaseTimeToLiveResponse r, bool keys)
    {
        var j = Header(r.Header).Key("id").Number(r.ID).Key("ttl").Number(r.TTL).Key("granted-ttl").Number(r.GrantedTTL).Key("keys");
        if (r.Keys.Count == 0)
        {
            j.Raw("null");
        }
        else
        {
            j.BeginArray();
            foreach (var k in r.Keys)
            {
                j.Bytes(k);
            }
            j.EndArray();
        }
        Print(j.End());
    }

    public override void Leases(LeaseLeasesResponse r)
    {
        var j = Header(r.Header).Key("leases").BeginArray();
        foreach (var l in r.Leases)
        {
            j.Begin().Key("id").Number(l.ID).End();
        }
        Print(j.EndArray().End());
    }

    public override void MemberAdd(MemberAddResponse r) => Print(r);

    public override void MemberRemove(ulong id, MemberRemoveResponse r) => Print(r);

    public override void MemberUpdate(ulong id, MemberUpdateResponse r) => Print(r);

    public override void MemberPromote(ulong id, MemberPromoteResponse r) => Print(r);

    public override void MemberList(MemberListResponse r) => Print(r);

    public override void EndpointHealth(IReadOnlyList<EndpointHealth> list)
    {
        var j = new GoJson().BeginArray();
        foreach (var h in list)
        {
            j.Begin().Key("endpoint").String(h.Endpoint).Key("health").Bool(h.Health).Key("took").String(GoFormat.Duration(h.Took));
            if (h.Error.Length > 0)
            {
                j.Key("error").String(h.Error);
            }
            j.End();
        }
        Print(j.EndArray());
    }

    public override void EndpointStatus(IReadOnlyList<EndpointStatus> list)
    {
        var j = new GoJson().BeginArray();
        foreach (var s in list)
        {
            j.Begin().Key("Endpoint").String(s.Endpoint).Key("Status").Message(s.Status).End();
        }
        Print(j.EndArray());
    }

    public override void EndpointHashKV(IReadOnlyList<EndpointHash> list)
    {
        var j = new GoJson().BeginArray();
        foreach (var h in list)
        {
            j.Begin().Key("Endpoint").String(h.Endpoint).Key("HashKV").Message(h.Hash).End();
        }
        Print(j.EndArray());
    }

    public override void Alarm(AlarmResponse r) => Print(r);

    public override void MoveLeader(ulong leader, ulong target, MoveLeaderResponse r) => Print(r);

    /// <summary>etcd's snapshot.Status struct with its json tags.</summary>
    public override void DBStatus(Snapshot.SnapshotStatus s) =>
        Print(new GoJson().Begin().Key("hash").Number((ulong)s.Hash).Key("revision").Number(s.Revision)
            .Key("totalKey").Number(s.TotalKey).Key("totalSize").Number(s.TotalSize).End());
}
