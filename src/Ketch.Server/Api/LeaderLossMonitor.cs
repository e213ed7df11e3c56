namespace Ketch.Server.Api;

/// <summary>
/// Ends the streams that asked for a leader (<c>hasleader=true</c>, clientv3's
/// <c>WithRequireLeader</c>) once this member has gone without one for
/// <see cref="ElectionsWithoutLeader"/> election timeouts in a row, as etcd's <c>monitorLeader</c>.
/// A member cut off from its cluster keeps its watch streams open but can deliver nothing new on
/// them; ended, they make clients such as Kubernetes' API server, <c>etcdctl watch</c> or Cilium's
/// kvstore reconnect to a member that has a leader. Streams are ended later than requests are
/// refused (<see cref="RequireLeaderGate"/> refuses at once): reconnecting a stream costs a client
/// much more than a retried request, and an election usually ends within one timeout.
/// </summary>
internal sealed class LeaderLossMonitor(Func<bool> hasLeader)
{
    /// <summary>etcd's <c>maxNoLeaderCnt</c>.</summary>
    public const int ElectionsWithoutLeader = 3;

    private readonly Lock _lock = new();
    private readonly HashSet<Tracked> _streams = [];
    private int _checksWithoutLeader;

    /// <summary>Starts tracking a stream: <paramref name="end"/> is cancelled if the leader stays lost.</summary>
    public Tracked Track(CancellationTokenSource end)
    {
        var t = new Tracked(this, end);
        lock (_lock)
        {
            _streams.Add(t);
        }
        return t;
    }

    /// <summary>One election timeout has passed: counts it if there was no leader, and ends every
    /// tracked stream once <see cref="ElectionsWithoutLeader"/> such timeouts ran in a row.</summary>
    public void Check()
    {
        List<Tracked> ending;
        lock (_lock)
        {
            _checksWithoutLeader = hasLeader() ? 0 : _checksWithoutLeader + 1;
            if (_checksWithoutLeader < ElectionsWithoutLeader || _streams.Count == 0)
            {
                return;
            }
            ending = [.. _streams];
            _streams.Clear();
        }
        foreach (var t in ending)
        {
            t.End();
        }
    }

    /// <summary>Calls <see cref="Check"/> every <paramref name="electionTimeout"/> until <paramref name="stop"/>.</summary>
    public async Task RunAsync(TimeSpan electionTimeout, TimeProvider time, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(electionTimeout, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                Check();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Untrack(Tracked t)
    {
        lock (_lock)
        {
            _streams.Remove(t);
        }
    }

    /// <summary>A stream being tracked; dispose it when the stream ends.</summary>
    public sealed class Tracked(LeaderLossMonitor monitor, CancellationTokenSource end) : IDisposable
    {
        private volatile bool _ended;

        /// <summary>Whether the monitor ended the stream for want of a leader.</summary>
        public bool Ended => _ended;

        internal void End()
        {
            _ended = true;
            try
            {
                end.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The stream finished meanwhile.
            }
        }

        public void Dispose() => monitor.Untrack(this);
    }
}
