using Ketch.Api.Etcdserverpb;

namespace Ketch.Ctl.Printers;

/// <summary>The <c>table</c> format: only membership and endpoint commands support it.</summary>
internal sealed class TablePrinter(TextWriter output) : Printer(output)
{
    protected override string Name => "table";

    public override void MemberList(MemberListResponse r) => Out.Write(Table.Render(MemberHeader, MemberRows(r).ToList()));

    public override void EndpointStatus(IReadOnlyList<EndpointStatus> r) => Out.Write(Table.Render(StatusHeader, StatusRows(r).ToList()));

    public override void EndpointHashKV(IReadOnlyList<EndpointHash> r) => Out.Write(Table.Render(HashHeader, HashRows(r).ToList()));

    public override void EndpointHealth(IReadOnlyList<EndpointHealth> r) => Out.Write(Table.Render(HealthHeader, HealthRows(r).ToList()));

    public override void DBStatus(Snapshot.SnapshotStatus s) => Out.Write(Table.Render(DBStatusHeader, [DBStatusRow(s)]));
}
