using System.Buffers.Binary;
using Ketch.Mvcc;
using Ketch.Mvcc.Backend;

namespace Ketch.Server.Lease;

/// <summary>
/// The leases of a member. Grants, revocations and checkpoints arrive through Raft (every member
/// holds the same set, persisted in the Lease bucket with the data); expiry is the leader's alone:
/// on promotion it starts every lease's clock at its remaining TTL (the last checkpoint, else the
/// granted TTL), renews on keep-alive, and proposes revocations of expired leases.
/// </summary>
internal sealed class Lessor
{
    /// <summary>etcd's MaxLeaseTTL (9,000,000,000 s).</summary>
    public const long MaxTtlSeconds = 9_000_000_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<long, LeaseState> _leases = [];
    private readonly TimeProvider _time;
    private bool _primary;

    public Lessor(TimeProvider time, long minTtlSeconds)
    {
        _time = time;
        MinTtlSeconds = minTtlSeconds;
    }

    /// <summary>Grants, revocations, renewals and expiries counted for the metrics.</summary>
    public LeaseStats Stats { get; } = new();

    /// <summary>The shortest TTL granted (etcd: 1.5 election timeouts, rounded up to seconds).</summary>
    public long MinTtlSeconds { get; }

    public bool IsPrimary
    {
        get
        {
            lock (_lock)
            {
                return _primary;
            }
        }
    }

    /// <summary>Loads the leases saved in the store (at start).</summary>
    public void Recover(KvStore kv)
    {
        lock (_lock)
        {
            _leases.Clear();
            foreach (var (key, value) in kv.ReadBucket(BackendBucket.Lease))
            {
                var id = BinaryPrimitives.ReadInt64BigEndian(key);
                _leases[id] = new LeaseState(id, BinaryPrimitives.ReadInt64BigEndian(value), BinaryPrimitives.ReadInt64BigEndian(value.AsSpan(8)));
            }
        }
    }

    public bool Exists(long id)
    {
        lock (_lock)
        {
            return _leases.ContainsKey(id);
        }
    }

    /// <summary>Applies a grant; returns the TTL granted, or null when the id is taken.</summary>
    public long? Grant(KvStore kv, long id, long ttl)
    {
        lock (_lock)
        {
            if (_leases.ContainsKey(id))
            {
                return null;
            }
            ttl = Math.Max(ttl, MinTtlSeconds);
            var lease = new LeaseState(id, ttl, 0);
            if (_primary)
            {
                lease.Expiry = _time.GetUtcNow().AddSeconds(ttl);
            }
            _leases[id] = lease;
            Save(kv, lease);
            Stats.OnGranted(ttl);
            return ttl;
        }
    }

    /// <summary>Applies a revocation's bookkeeping; false when the lease does not exist.</summary>
    public bool Remove(KvStore kv, long id)
    {
        lock (_lock)
        {
            if (!_leases.Remove(id))
            {
                return false;
            }
            kv.DeleteBucketValue(BackendBucket.Lease, Key(id));
            Stats.OnRevoked();
            return true;
        }
    }

    /// <summary>Applies a checkpoint: the remaining TTL a future leader starts from.</summary>
    public void Checkpoint(KvStore kv, long id, long remainingTtl)
    {
        lock (_lock)
        {
            if (_leases.TryGetValue(id, out var lease))
            {
                lease.RemainingTtl = remainingTtl;
                Save(kv, lease);
            }
        }
    }

    /// <summary>Leader only: renews a lease; the TTL, or -1 when it does not exist.</summary>
    public long Renew(long id)
    {
        lock (_lock)
        {
            if (!_leases.TryGetValue(id, out var lease))
            {
                return -1;
            }
            lease.RemainingTtl = 0;
            lease.Expiry = _time.GetUtcNow().AddSeconds(lease.Ttl);
            lease.Revoking = false;
            Stats.OnRenewed();
            return lease.Ttl;
        }
    }

    /// <summary>Granted TTL and remaining seconds (leader's clock), or null when absent.</summary>
    public (long Granted, long Remaining)? TimeToLive(long id)
    {
        lock (_lock)
        {
            if (!_leases.TryGetValue(id, out var lease))
            {
                return null;
            }
            long remaining;
            if (lease.Expiry is { } expiry)
            {
                // Whole seconds left, truncated as etcd reports them: 99 just after a grant of 100.
                remaining = (long)(expiry - _time.GetUtcNow()).TotalSeconds;
                remaining = Math.Max(remaining, 0);
            }
            else
            {
                remaining = lease.RemainingTtl > 0 ? lease.RemainingTtl : lease.Ttl;
            }
            return (lease.Ttl, remaining);
        }
    }

    /// <summary>Every lease, soonest to expire first as etcd lists them; leases without a clock
    /// (on a follower, or before promotion) last, by id.</summary>
    public long[] Ids()
    {
        lock (_lock)
        {
            return [.. _leases.Values
                .OrderBy(l => l.Expiry ?? DateTimeOffset.MaxValue)
                .ThenBy(l => l.Id)
                .Select(l => l.Id)];
        }
    }

    /// <summary>This member became leader: start every lease's clock, at its remaining TTL plus
    /// <paramref name="extend"/>. etcd extends by an election timeout: while there was no leader,
    /// nobody could renew, and a client whose keep-alives were lost in the election must not lose
    /// its lease for it.</summary>
    public void Promote(TimeSpan extend)
    {
        lock (_lock)
        {
            _primary = true;
            var now = _time.GetUtcNow() + extend;
            foreach (var lease in _leases.Values)
            {
                lease.Expiry = now.AddSeconds(lease.RemainingTtl > 0 ? lease.RemainingTtl : lease.Ttl);
                lease.Revoking = false;
            }
        }
    }

    /// <summary>This member is no longer leader: clocks stop.</summary>
    public void Demote()
    {
        lock (_lock)
        {
            _primary = false;
            foreach (var lease in _leases.Values)
            {
                lease.Expiry = null;
            }
        }
    }

    /// <summary>Leader only: expired leases not yet being revoked (at most <paramref name="max"/>); marks them.</summary>
    public List<long> TakeExpired(int max)
    {
        var result = new List<long>();
        lock (_lock)
        {
            if (!_primary)
            {
                return result;
            }
            var now = _time.GetUtcNow();
            foreach (var lease in _leases.Values)
            {
                if (result.Count >= max)
                {
                    break;
                }
                if (!lease.Revoking && lease.Expiry is { } e && e <= now && !(lease.RetryAt > now))
                {
                    lease.Revoking = true;
                    result.Add(lease.Id);
                }
            }
        }
        return result;
    }

    /// <summary>Leader only: the remaining TTL of every lease, for a checkpoint.</summary>
    public List<(long Id, long Remaining)> Remaining()
    {
        var result = new List<(long, long)>();
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            foreach (var lease in _leases.Values)
            {
                if (lease.Expiry is { } e)
                {
                    result.Add((lease.Id, Math.Max(1, (long)Math.Ceiling((e - now).TotalSeconds))));
                }
            }
        }
        return result;
    }

    /// <summary>A revocation proposal failed: let the next check try again.</summary>
    public void RevokeFailed(long id)
    {
        lock (_lock)
        {
            if (_leases.TryGetValue(id, out var lease))
            {
                lease.Revoking = false;
            }
        }
    }

    /// <summary>A revocation was refused when applied (a CORRUPT alarm refuses every write): try again
    /// after <paramref name="retryAfter"/>, as etcd retries expired leases every 3 s, not on every tick.</summary>
    public void RevokeRefused(long id, TimeSpan retryAfter)
    {
        lock (_lock)
        {
            if (_leases.TryGetValue(id, out var lease))
            {
                lease.Revoking = false;
                lease.RetryAt = _time.GetUtcNow() + retryAfter;
            }
        }
    }

    private static byte[] Key(long id)
    {
        var k = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(k, id);
        return k;
    }

    private static void Save(KvStore kv, LeaseState lease)
    {
        var v = new byte[16];
        BinaryPrimitives.WriteInt64BigEndian(v, lease.Ttl);
        BinaryPrimitives.WriteInt64BigEndian(v.AsSpan(8), lease.RemainingTtl);
        kv.PutBucketValue(BackendBucket.Lease, Key(lease.Id), v);
    }

    private sealed class LeaseState(long id, long ttl, long remainingTtl)
    {
        public long Id { get; } = id;

        public long Ttl { get; } = ttl;

        public long RemainingTtl { get; set; } = remainingTtl;

        public DateTimeOffset? Expiry { get; set; }

        public bool Revoking { get; set; }

        /// <summary>Not proposed for revocation again before this (a revocation refused at apply).</summary>
        public DateTimeOffset? RetryAt { get; set; }
    }
}
