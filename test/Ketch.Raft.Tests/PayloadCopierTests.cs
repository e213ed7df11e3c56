using System.Runtime.InteropServices;
using Xunit;

namespace Ketch.Raft.Tests;

public class PayloadCopierTests
{
    private static byte[] Payload(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static byte[] ArrayOf(ReadOnlyMemory<byte> m)
    {
        Assert.True(MemoryMarshal.TryGetArray(m, out var segment));
        return segment.Array!;
    }

    [Fact]
    public void Copies_are_equal_and_share_arrays_below_the_large_object_threshold()
    {
        var payloads = Enumerable.Range(0, 2_000).Select(i => Payload(300 + i % 50, i)).ToList();
        var copier = new PayloadCopier(payloads.Sum(p => (long)p.Length));
        var copies = payloads.Select(p => copier.Copy(p)).ToList();

        for (var i = 0; i < payloads.Count; i++)
        {
            Assert.Equal(payloads[i], copies[i].ToArray());
        }
        var arrays = copies.Select(ArrayOf).Distinct().ToList();
        Assert.All(arrays, a => Assert.True(a.Length <= PayloadCopier.ChunkBytes, $"array of {a.Length} bytes"));
        // About 650 KB of payloads: shared chunks, not an array per payload and not one big array.
        Assert.InRange(arrays.Count, 10, 12);
        // The copies are the copier's own memory, not the caller's.
        payloads[0][0] ^= 0xFF;
        Assert.NotEqual(payloads[0][0], copies[0].Span[0]);
    }

    [Fact]
    public void The_last_chunk_is_sized_to_what_is_left_and_big_payloads_get_their_own_array()
    {
        var small = Payload(100, 1);
        var big = Payload(PayloadCopier.ChunkBytes + 10, 2);
        var copier = new PayloadCopier(small.Length * 2 + big.Length);

        var b = copier.Copy(big);
        var a = copier.Copy(small);
        var c = copier.Copy(small);

        Assert.Equal(big, b.ToArray());
        Assert.Equal(big.Length, ArrayOf(b).Length);
        Assert.Same(ArrayOf(a), ArrayOf(c));
        Assert.Equal(200, ArrayOf(a).Length);
        Assert.True(copier.Copy([]).IsEmpty);
    }
}
