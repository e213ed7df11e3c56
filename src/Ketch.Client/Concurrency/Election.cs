using System.Runtime.CompilerServices;
using Google.Protobuf;
using Ketch.Api.Mvccpb;

namespace Ketch.Client.Concurrency;

/// <summary>Leader election with etcd's recipe (<c>concurrency.Election</c>): candidates write <c>prefix/leaseid</c>
/// with their proposal under their session's lease; the oldest key is the leader. Interoperates with etcdctl's
/// <c>elect</c>. The fencing-token caveat of <see cref="Mutex"/> applies: a leader must pass
/// <see cref="Revision"/> to what it controls, as a paused leader may not know it has been replaced.</summary>
public sealed class Election
{
    private readonly Session _session;
    private readonly string _prefix;
    private string? _key;
    private long _revision;

    /// <summary>Creates an election on a prefix.</summary>
    /// <param name="session">The candidate's session.</param>
    /// <param name="prefix">The election name; keys live under <c>prefix/</c>.</param>
    public Election(Session session, string prefix)
    {
        ArgumentNullException.ThrowIfNull(session);
        _session = session;
        _prefix = prefix + "/";
    }

    /// <summary>Our key while we are leader (or campaigning).</summary>
    public string? Key => _key;

    /// <summary>Create revision of our key: the leadership's fencing token.</summary>
    public long Revision => _revision;

    /// <summary>Waits until elected, then the proposal is the leader's value.</summary>
    /// <param name="value">The proposal.</param>
    /// <param name="cancellationToken">Cancels the campaign (our key is withdrawn).</param>
    /// <returns>A task that completes once elected.</returns>
    public async Task CampaignAsync(string value, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _session.Done);
        var key = $"{_prefix}{_session.LeaseId:x}";
        var r = await _session.Client.Kv.Txn()
            .If(Cmp.CreateRevision(key, "=", 0))
            .Then(Op.Put(key, value, new PutOptions { Lease = _session.LeaseId }))
            .Else(Op.Get(key))
            .CommitAsync(cts.Token).ConfigureAwait(false);
        _key = key;
        _revision = r.Header.Revision;
        try
        {
            if (!r.Succeeded)
            {
                var kv = r.Responses[0].ResponseRange.Kvs[0];
                _revision = kv.CreateRevision;
                if (kv.Value.ToStringUtf8() != value)
                {
                    await ProclaimAsync(value, cts.Token).ConfigureAwait(false);
                }
            }
            await Waits.WaitDeletesAsync(_session.Client, _prefix, _revision - 1, cts.Token).ConfigureAwait(false);
        }
        catch
        {
            using var resign = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await ResignAsync(resign.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is Grpc.Core.RpcException or OperationCanceledException)
            {
                // The key goes with the session's lease anyway.
            }
            throw;
        }
    }

    /// <summary>Changes the leader's value without a new election.</summary>
    /// <param name="value">The new value.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task; throws <see cref="InvalidOperationException"/> if we are not the leader.</returns>
    public async Task ProclaimAsync(string value, CancellationToken cancellationToken = default)
    {
        var key = _key ?? throw new InvalidOperationException("election: not leader");
        var r = await _session.Client.Kv.Txn()
            .If(Cmp.CreateRevision(key, "=", _revision))
            .Then(Op.Put(key, value, new PutOptions { Lease = _session.LeaseId }))
            .CommitAsync(cancellationToken).ConfigureAwait(false);
        if (!r.Succeeded)
        {
            _key = null;
            throw new InvalidOperationException("election: not leader");
        }
    }

    /// <summary>Gives up leadership (or the candidacy).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task.</returns>
    public async Task ResignAsync(CancellationToken cancellationToken = default)
    {
        if (_key is not { } key)
        {
            return;
        }
        await _session.Client.Kv.Txn()
            .If(Cmp.CreateRevision(key, "=", _revision))
            .Then(Op.Delete(key))
            .CommitAsync(cancellationToken).ConfigureAwait(false);
        _key = null;
        _revision = 0;
    }

    /// <summary>The current leader's key and value, or null if there is none.</summary>
    /// <param name="client">A client.</param>
    /// <param name="prefix">The election name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The leader's key-value or null.</returns>
    public static async Task<KeyValue?> LeaderAsync(KetchClient client, string prefix, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var r = await client.Kv.GetAsync(prefix + "/", Waits.FirstCreate, cancellationToken).ConfigureAwait(false);
        return r.Kvs.Count == 0 ? null : r.Kvs[0];
    }

    /// <summary>Yields the leader's key-value each time the leader or its value changes, until canceled.</summary>
    /// <param name="client">A client.</param>
    /// <param name="prefix">The election name.</param>
    /// <param name="cancellationToken">Ends observing.</param>
    /// <returns>The successive leaders.</returns>
    public static async IAsyncEnumerable<KeyValue> ObserveAsync(KetchClient client, string prefix,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var pfx = prefix + "/";
        while (!cancellationToken.IsCancellationRequested)
        {
            var r = await client.Kv.GetAsync(pfx, Waits.FirstCreate, cancellationToken).ConfigureAwait(false);
            KeyValue? leader = r.Kvs.Count > 0 ? r.Kvs[0] : null;
            var from = r.Header.Revision + 1;
            if (leader is null)
            {
                // Wait for the first candidate to appear.
                await foreach (var w in client.Watch.Watch(pfx, new WatchOptions { Prefix = true, StartRevision = from, NoDelete = true })
                    .WithCancellation(cancellationToken).ConfigureAwait(false))
                {
                    if (w.Events.Count > 0)
                    {
                        leader = w.Events[0].Kv;
                        from = leader.ModRevision + 1;
                        break;
                    }
                }
            }
            if (leader is null)
            {
                yield break;
            }
            yield return leader;
            var value = leader.Value;
            await foreach (var w in client.Watch.Watch(leader.Key, new WatchOptions { StartRevision = from })
                .WithCancellation(cancellationToken).ConfigureAwait(false))
            {
                var gone = false;
                foreach (var e in w.Events)
                {
                    if (e.Type == Event.Types.EventType.Delete)
                    {
                        gone = true;
                        break;
                    }
                    if (e.Kv.CreateRevision == leader.CreateRevision && e.Kv.Value != value)
                    {
                        value = e.Kv.Value;
                        yield return e.Kv;
                    }
                }
                if (gone)
                {
                    break;
                }
            }
        }
    }

    /// <summary>UTF-8 helper for values.</summary>
    internal static ByteString Utf8(string s) => ByteString.CopyFromUtf8(s);
}
