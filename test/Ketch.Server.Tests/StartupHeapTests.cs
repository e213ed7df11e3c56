using Microsoft.Extensions.Logging.Abstractions;

namespace Ketch.Server.Tests;

public sealed class StartupHeapTests
{
    [Fact]
    public void A_small_open_costs_no_collection()
    {
        Assert.False(StartupHeap.CompactAfterOpen(StartupHeap.ThresholdBytes - 1, NullLogger.Instance));
    }

    [Fact]
    public void A_large_open_is_followed_by_one_full_compacting_collection()
    {
        var gen2Before = GC.CollectionCount(2);
        Assert.True(StartupHeap.CompactAfterOpen(StartupHeap.ThresholdBytes, NullLogger.Instance));
        Assert.True(GC.CollectionCount(2) > gen2Before);
    }
}
