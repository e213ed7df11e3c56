using Google.Protobuf;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Client.Concurrency;

/// <summary>The waiting shared by the mutex and the election: a key waits until every key under the prefix
/// created before it is deleted (each waiter watches only its predecessor, so a release wakes one waiter).</summary>
internal static class Waits
{
    /// <summary>The key under the prefix with the lowest create revision.</summary>
    public static GetOptions FirstCreate { get; } = new()
    {
        Prefix = true,
        SortTarget = RangeRequest.Types.SortTarget.Create,
        SortOrder = RangeRequest.Types.SortOrder.Ascend,
        Limit = 1,
    };

    public static async Task WaitDeletesAsync(KetchClient client, string prefix, long maxCreateRevision, CancellationToken cancellationToken)
    {
        var lastCreate = new GetOptions
        {
            Prefix = true,
            SortTarget = RangeRequest.Types.SortTarget.Create,
            SortOrder = RangeRequest.Types.SortOrder.Descend,
            Limit = 1,
            MaxCreateRevision = maxCreateRevision,
        };
        while (true)
        {
            var r = await client.Kv.GetAsync(prefix, lastCreate, cancellationToken).ConfigureAwait(false);
            if (r.Kvs.Count == 0)
            {
                return;
            }
            await WaitDeleteAsync(client, r.Kvs[0].Key, r.Header.Revision, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task WaitDeleteAsync(KetchClient client, ByteString key, long revision, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watch = client.Watch.Watch(key, new WatchOptions { StartRevision = revision + 1 });
        try
        {
            await foreach (var r in watch.WithCancellation(cts.Token).ConfigureAwait(false))
            {
                if (r.Events.Any(e => e.Type == Ketch.Api.Mvccpb.Event.Types.EventType.Delete))
                {
                    return;
                }
            }
        }
        finally
        {
            await cts.CancelAsync().ConfigureAwait(false);
        }
    }
}
