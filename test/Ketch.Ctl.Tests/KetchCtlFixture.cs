using Ketch.Testing;

namespace Ketch.Ctl.Tests;

/// <summary><see cref="CtlFixture"/> on a ketch member (a <c>ketch</c> process), so etcdctl and
/// ketchctl are compared on ketch as well as on etcd.</summary>
public sealed class KetchCtlFixture : CtlFixture
{
    protected override IClusterProvider Provider => KetchClusterProvider.Instance;
}
