using Ketch.Api.Etcdserverpb;

namespace Ketch.Client.Concurrency;

/// <summary>A distributed mutex with etcd's recipe (<c>concurrency.Mutex</c>): each contender writes
/// <c>prefix/leaseid</c> under its session's lease; the key with the lowest create revision holds the lock,
/// the others wait for their predecessor's deletion. Locks made this way and by etcdctl/clientv3 exclude each other.
/// <para><b>Fencing tokens.</b> Holding this lock does not guarantee mutual exclusion at the resource it
/// protects: a holder can pause (GC, swap, network partition) past its lease TTL, lose the lock, and still
/// act while another holder proceeds; Jepsen found exactly this with etcd's locks (Jepsen, etcd 3.4.3, 2020).
/// Pass <see cref="Revision"/> (a strictly increasing fencing token) to the resource and let it reject
/// requests carrying an older token, or guard writes to etcd itself with a transaction comparing
/// <see cref="Key"/>'s create revision (<see cref="IsOwnerCompare"/>).</para></summary>
public sealed class Mutex
{
    private readonly Session _session;
    private readonly string _prefix;
    private string? _key;
    private long _revision;

    /// <summary>Creates a mutex on a prefix; nothing is written until <see cref="LockAsync"/>.</summary>
    /// <param name="session">The holder's session.</param>
    /// <param name="prefix">The lock name; keys live under <c>prefix/</c>.</param>
    public Mutex(Session session, string prefix)
    {
        ArgumentNullException.ThrowIfNull(session);
        _session = session;
        _prefix = prefix + "/";
    }

    /// <summary>The holder's key (<c>prefix/leaseid</c> in hex), once locked.</summary>
    public string Key => _key ?? throw new InvalidOperationException("the mutex is not locked");

    /// <summary>The create revision of <see cref="Key"/>: the fencing token, strictly increasing across holders.</summary>
    public long Revision => _revision;

    /// <summary>A comparison that holds only while this mutex is still held; add it to transactions.</summary>
    /// <returns>The comparison.</returns>
    public Compare IsOwnerCompare() => Cmp.CreateRevision(Key, "=", _revision);

    /// <summary>Waits until the lock is held. On cancellation or session loss the attempt is withdrawn.</summary>
    /// <param name="cancellationToken">Cancels waiting.</param>
    /// <returns>A task.</returns>
    public async Task LockAsync(CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _session.Done);
        var owned = await TryAcquireAsync(cts.Token).ConfigureAwait(false);
        if (owned)
        {
            return;
        }
        try
        {
            await Waits.WaitDeletesAsync(_session.Client, _prefix, _revision - 1, cts.Token).ConfigureAwait(false);
            // The session may have expired while we waited: the key must still be ours.
            var mine = await _session.Client.Kv.GetAsync(Key, cancellationToken: cts.Token).ConfigureAwait(false);
            if (mine.Kvs.Count == 0 || mine.Kvs[0].CreateRevision != _revision)
            {
                throw new InvalidOperationException("mutex: session expired while waiting for the lock");
            }
        }
        catch
        {
            await WithdrawAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Takes the lock if it is free; otherwise withdraws and returns false.</summary>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>True if the lock is now held.</returns>
    public async Task<bool> TryLockAsync(CancellationToken cancellationToken = default)
    {
        if (await TryAcquireAsync(cancellationToken).ConfigureAwait(false))
        {
            return true;
        }
        await WithdrawAsync().ConfigureAwait(false);
        return false;
    }

    /// <summary>Releases the lock (deletes <see cref="Key"/>).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task.</returns>
    public async Task UnlockAsync(CancellationToken cancellationToken = default)
    {
        if (_key is { } key)
        {
            await _session.Client.Kv.DeleteAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
            _key = null;
            _revision = 0;
        }
    }

    /// <summary>Writes our key if absent and tells whether it is the oldest under the prefix.</summary>
    private async Task<bool> TryAcquireAsync(CancellationToken cancellationToken)
    {
        var key = $"{_prefix}{_session.LeaseId:x}";
        var r = await _session.Client.Kv.Txn()
            .If(Cmp.CreateRevision(key, "=", 0))
            .Then(Op.Put(key, "", new PutOptions { Lease = _session.LeaseId }), Op.Get(_prefix, Waits.FirstCreate))
            .Else(Op.Get(key), Op.Get(_prefix, Waits.FirstCreate))
            .CommitAsync(cancellationToken).ConfigureAwait(false);
        _key = key;
        _revision = r.Succeeded ? r.Header.Revision : r.Responses[0].ResponseRange.Kvs[0].CreateRevision;
        var owner = r.Responses[1].ResponseRange.Kvs;
        return owner.Count == 0 || owner[0].CreateRevision == _revision;
    }

    private async Task WithdrawAsync()
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await UnlockAsync(cts.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is Grpc.Core.RpcException or OperationCanceledException)
        {
            // The key goes with the session's lease anyway.
        }
    }
}
