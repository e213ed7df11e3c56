using Ketch.Server.Http;

namespace Ketch.Server.Lease;

/// <summary>
/// What the lessor has done since the member started, for etcd's lease series on /metrics:
/// grants and revocations applied (every member applies them), renewals the leader served, leases
/// the leader found expired, and the TTLs granted (etcd's histogram: 1 s doubling, 24 buckets).
/// </summary>
internal sealed class LeaseStats
{
    private long _granted;
    private long _revoked;
    private long _renewed;
    private long _expired;

    public Histogram Ttl { get; } = new(Histogram.Exponential(1, 2, 24));

    public long Granted => Interlocked.Read(ref _granted);

    public long Revoked => Interlocked.Read(ref _revoked);

    public long Renewed => Interlocked.Read(ref _renewed);

    public long Expired => Interlocked.Read(ref _expired);

    public void OnGranted(long ttlSeconds)
    {
        Interlocked.Increment(ref _granted);
        Ttl.Observe(TimeSpan.FromSeconds(ttlSeconds));
    }

    public void OnRevoked() => Interlocked.Increment(ref _revoked);

    public void OnRenewed() => Interlocked.Increment(ref _renewed);

    public void OnExpired() => Interlocked.Increment(ref _expired);
}
