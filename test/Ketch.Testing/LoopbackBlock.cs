namespace Ketch.Testing;

/// <summary>
/// Loopback addresses of this test process alone: <c>127.H.L.n</c>, where H.L come from the process
/// id. The test assemblies run in parallel, each in its own process, and each starts etcd and ketch
/// clusters: on shared addresses (127.0.0.51, .52, ...) a port one process found free could be
/// bound by another process's cluster before its own member bound it (CI saw etcd fail with
/// "bind: address already in use" on 127.0.0.53 while another assembly's clusters ran). Two
/// processes share a block only when their ids agree in their low 15 bits.
/// </summary>
public static class LoopbackBlock
{
    private static readonly string s_prefix = $"127.{128 + ((Environment.ProcessId >> 8) & 0x7F)}.{Environment.ProcessId & 0xFF}.";

    /// <summary>The address <c>127.H.L.<paramref name="n"/></c> of this process's block (1 &lt;= n &lt;= 254).</summary>
    public static string Address(int n) => s_prefix + n;
}
