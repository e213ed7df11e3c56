using Ketch.Api.Etcdserverpb;

namespace Ketch.Ctl.Printers;

/// <summary>Prints responses in one of etcdctl's output formats. A format that does not support a
/// response fails as etcdctl does.</summary>
internal abstract class Printer(TextWriter output)
{
    protected TextWriter Out { get; } = output;

    protected abstract string Name { get; }

    public static Printer Create(string format, bool hex, bool valueOnly, TextWriter output) => format switch
    {
        "simple" => new SimplePrinter(output, hex, valueOnly),
        "json" => new JsonPrinter(output),
        "fields" => new FieldsPrinter(output),
        "table" => new TablePrinter(output),
        "protobuf" => throw new CtlException(ExitCode.BadFeature, "protobuf output is not supported by ketchctl"),
        _ => throw new CtlException(ExitCode.BadFeature, $"unknown output format {format}"),
    };

    protected CtlException Unsupported() => new(ExitCode.BadFeature, $"{Name} not supported as output format");

    public virtual void Get(RangeResponse r) => throw Unsupported();

    public virtual void Put(PutResponse r) => throw Unsupported();

    public virtual void Del(DeleteRangeResponse r) => throw Unsupported();

    public virtual void Txn(TxnResponse r) => throw Unsupported();

    public virtual void Watch(WatchResponse r) => throw Unsupported();

    public virtual void Grant(LeaseGrantResponse r) => throw Unsupported();

    public virtual void Revoke(long id, LeaseRevokeResponse r) => throw Unsupported();

    public virtual void KeepAlive(LeaseKeepAliveResponse r) => throw Unsupported();

    public virtual void TimeToLive(LeaseTimeToLiveResponse r, bool keys) => throw Unsupported();

    public virtual void Leases(LeaseLeasesResponse r) => throw Unsupported();

    public virtual void MemberAdd(MemberAddResponse r) => throw Unsupported();

    public virtual void MemberRemove(ulong id, MemberRemoveResponse r) => throw Unsupported();

    public virtual void MemberUpdate(ulong id, MemberUpdateResponse r) => throw Unsupported();

    public virtual void MemberPromote(ulong id, MemberPromoteResponse r) => throw Unsupported();

    public virtual void MemberList(MemberListResponse r) => throw Unsupported();

    public virtual void EndpointHealth(IReadOnlyList<EndpointHealth> r) => throw Unsupported();

    public virtual void EndpointStatus(IReadOnlyList<EndpointStatus> r) => throw Unsupported();

    public virtual void EndpointHashKV(IReadOnlyList<EndpointHash> r) => throw Unsupported();

    public virtual void Alarm(AlarmResponse r) => throw Unsupported();

    public virtual void MoveLeader(ulong leader, ulong target, MoveLeaderResponse r) => throw Unsupported();

    public virtual void DBStatus(Snapshot.SnapshotStatus s) => throw Unsupported();

    protected static readonly string[] DBStatusHeader = ["hash", "revision", "total keys", "total size"];

    protected static string[] DBStatusRow(Snapshot.SnapshotStatus s) =>
        [GoFormat.X(s.Hash), GoFormat.D(s.Revision), GoFormat.D(s.TotalKey), GoFormat.Bytes((ulong)s.TotalSize)];

    // Rows shared by the simple and table printers (etcdctl's makeMemberListTable & co.).
    protected static readonly string[] MemberHeader = ["ID", "Status", "Name", "Peer Addrs", "Client Addrs", "Is Learner"];

    protected static IEnumerable<string[]> MemberRows(MemberListResponse r) => r.Members.Select(m => new[]
    {
        GoFormat.X(m.ID),
        m.Name.Length == 0 ? "unstarted" : "started",
        m.Name,
        string.Join(",", m.PeerURLs),
        string.Join(",", m.ClientURLs),
        GoFormat.Bool(m.IsLearner),
    });

    protected static readonly string[] StatusHeader =
        ["endpoint", "ID", "version", "db size", "is leader", "is learner", "raft term", "raft index", "raft applied index", "errors"];

    protected static IEnumerable<string[]> StatusRows(IReadOnlyList<EndpointStatus> list) => list.Select(s => new[]
    {
        s.Endpoint,
        GoFormat.X(s.Status.Header.MemberId),
        s.Status.Version,
        GoFormat.Bytes((ulong)s.Status.DbSize),
        GoFormat.Bool(s.Status.Leader == s.Status.Header.MemberId),
        GoFormat.Bool(s.Status.IsLearner),
        GoFormat.D(s.Status.RaftTerm),
        GoFormat.D(s.Status.RaftIndex),
        GoFormat.D(s.Status.RaftAppliedIndex),
        string.Join(", ", s.Status.Errors),
    });

    protected static readonly string[] HashHeader = ["endpoint", "hash"];

    protected static IEnumerable<string[]> HashRows(IReadOnlyList<EndpointHash> list) =>
        list.Select(h => new[] { h.Endpoint, GoFormat.D(h.Hash.Hash) });

    protected static readonly string[] HealthHeader = ["endpoint", "health", "took", "error"];

    protected static IEnumerable<string[]> HealthRows(IReadOnlyList<EndpointHealth> list) =>
        list.Select(h => new[] { h.Endpoint, GoFormat.Bool(h.Health), GoFormat.Duration(h.Took), h.Error });
}
