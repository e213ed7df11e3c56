using System.Collections.Concurrent;
using Ketch.Raft.Storage;

namespace Ketch.Raft.NodeTests;

/// <summary>
/// Members running as <see cref="Node"/>s, each with its own Ready consumer task
/// that persists to a MemoryStorage, sends through an in-memory transport (StepAsync on the
/// recipient), applies, and advances — real concurrency, as a server runs it.
/// </summary>
internal sealed class NodeCluster : IAsyncDisposable
{
    private readonly Dictionary<ulong, Node> _nodes = [];
    private readonly Dictionary<ulong, MemoryStorage> _storages = [];
    private readonly List<Task> _consumers = [];
    private readonly CancellationTokenSource _stop = new();

    public NodeCluster(int members)
    {
        var ids = Enumerable.Range(1, members).Select(i => (ulong)i).ToArray();
        foreach (var id in ids)
        {
            _storages[id] = MemoryStorage.WithMembers(ids);
            _nodes[id] = Ketch.Raft.Node.Start(new RaftConfig { Id = id, Storage = _storages[id], RandomSeed = id });
            Applied[id] = new ConcurrentQueue<Entry>();
        }
        foreach (var id in ids)
        {
            _consumers.Add(Task.Run(() => ConsumeAsync(id)));
        }
    }

    public IReadOnlyDictionary<ulong, Node> Nodes => _nodes;

    /// <summary>Entries each member applied, in the order it applied them.</summary>
    public Dictionary<ulong, ConcurrentQueue<Entry>> Applied { get; } = [];

    /// <summary>Any failure of a consumer: a Ready out of order, an exception.</summary>
    public ConcurrentQueue<string> Errors { get; } = new();

    private async Task ConsumeAsync(ulong id)
    {
        var node = _nodes[id];
        var storage = _storages[id];
        ulong lastApplied = 0;
        try
        {
            await foreach (var rd in node.Ready.ReadAllAsync(_stop.Token))
            {
                await SendAsync(rd.Messages);
                storage.Save(rd);
                await SendAsync(rd.MessagesAfterPersist);
                foreach (var e in rd.CommittedEntries.Span)
                {
                    if (lastApplied != 0 && e.Index != lastApplied + 1)
                    {
                        Errors.Enqueue($"member {id} applied {e.Index} after {lastApplied}");
                    }
                    lastApplied = e.Index;
                    Applied[id].Enqueue(e);
                }
                node.Advance();
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            Errors.Enqueue($"member {id}: {e}");
        }
    }

    private async Task SendAsync(IReadOnlyList<Message> messages)
    {
        foreach (var m in messages)
        {
            if (_nodes.TryGetValue(m.To, out var to))
            {
                try
                {
                    await to.StepAsync(m, _stop.Token);
                }
                catch (NodeStoppedException)
                {
                    // The recipient is shutting down: as a lost message.
                }
            }
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds, or fails after the deadline.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan deadline, string what)
    {
        using var cts = new CancellationTokenSource(deadline);
        while (!condition())
        {
            if (cts.IsCancellationRequested)
            {
                throw new TimeoutException($"timed out after {deadline} waiting for {what}");
            }
            await Task.Yield();
            await Task.Delay(1);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var node in _nodes.Values)
        {
            await node.DisposeAsync();
        }
        await Task.WhenAll(_consumers);
        _stop.Dispose();
    }
}
