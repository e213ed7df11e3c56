using CsCheck;
using Ketch.Raft.Tests.Quorum;
using Ketch.Raft.Tracker;
using Xunit;

namespace Ketch.Raft.Tests.Tracker;

public sealed class InflightsTests
{
    [Fact]
    public void FullByCount()
    {
        var inf = new Inflights(3, 0);
        inf.Add(1, 10);
        inf.Add(2, 10);
        Assert.False(inf.Full);
        inf.Add(3, 10);
        Assert.True(inf.Full);
        Assert.Throws<InvalidOperationException>(() => inf.Add(4, 10));
        inf.FreeLE(1);
        Assert.False(inf.Full);
        Assert.Equal(2, inf.Count);
        Assert.Equal(20, inf.Bytes);
    }

    [Fact]
    public void FullByBytes()
    {
        var inf = new Inflights(100, 100);
        inf.Add(1, 60);
        Assert.False(inf.Full);
        inf.Add(2, 40);
        Assert.True(inf.Full);
        inf.FreeLE(1);
        Assert.False(inf.Full);
        Assert.Equal(40, inf.Bytes);
        // A single message may exceed the byte budget; the window is then full until freed.
        inf.Add(3, 500);
        Assert.True(inf.Full);
        inf.FreeLE(3);
        Assert.Equal(0, inf.Count);
        Assert.Equal(0, inf.Bytes);
    }

    [Fact]
    public void FreeLEFreesOnlyThePrefixUpToTheIndex()
    {
        var inf = new Inflights(10, 0);
        foreach (var i in new ulong[] { 3, 5, 8, 9 })
        {
            inf.Add(i, (long)i);
        }
        inf.FreeLE(2);
        Assert.Equal(4, inf.Count);
        inf.FreeLE(6);
        Assert.Equal(2, inf.Count);
        Assert.Equal(17, inf.Bytes);
        inf.FreeLE(100);
        Assert.Equal(0, inf.Count);
        Assert.Equal(0, inf.Bytes);
    }

    [Fact]
    public void RingWrapsAround()
    {
        var inf = new Inflights(4, 0);
        for (ulong i = 1; i <= 4; i++)
        {
            inf.Add(i, 1);
        }
        inf.FreeLE(2);
        inf.Add(5, 1);
        inf.Add(6, 1);
        Assert.True(inf.Full);
        inf.FreeLE(5);
        Assert.Equal(1, inf.Count);
        inf.Add(7, 1);
        inf.FreeLE(6);
        Assert.Equal(1, inf.Count);
        inf.FreeLE(7);
        Assert.Equal(0, inf.Count);
    }

    [Fact]
    public void ResetForgetsEverything()
    {
        var inf = new Inflights(2, 0);
        inf.Add(1, 5);
        inf.Add(2, 5);
        inf.Reset();
        Assert.Equal(0, inf.Count);
        Assert.Equal(0, inf.Bytes);
        Assert.False(inf.Full);
        inf.Add(1, 5);
        Assert.Equal(1, inf.Count);
    }

    /// <summary>Random sequences of adds and frees against a plain list model.</summary>
    [Fact]
    public void BehavesLikeAListOfMessages()
    {
        // Each op: (add?, step or free index offset, bytes).
        var ops = Gen.Select(Gen.Bool, Gen.ULong[0, 4], Gen.Long[0, 40]).Array[1, 60];
        var limits = Gen.Select(Gen.Int[1, 8], Gen.Long[0, 120]);
        PropertyRuns.ForAll(Gen.Select(limits, ops), 1000, t =>
        {
            var ((capacity, maxBytes), seq) = t;
            var inf = new Inflights(capacity, maxBytes);
            var model = new List<(ulong Index, long Bytes)>();
            ulong last = 0;
            foreach (var (add, n, bytes) in seq)
            {
                var full = model.Count == capacity || (maxBytes != 0 && model.Sum(x => x.Bytes) >= maxBytes);
                Assert.Equal(full, inf.Full);
                if (add && !full)
                {
                    last += n + 1;
                    inf.Add(last, bytes);
                    model.Add((last, bytes));
                }
                else if (!add)
                {
                    var upTo = last >= n ? last - n : 0;
                    inf.FreeLE(upTo);
                    model.RemoveAll(x => x.Index <= upTo);
                }
                Assert.Equal(model.Count, inf.Count);
                Assert.Equal(model.Sum(x => x.Bytes), inf.Bytes);
            }
        }, t => $"capacity {t.Item1.Item1} maxBytes {t.Item1.Item2} ops [{string.Join(", ", t.Item2)}]");
    }
}
