using Grpc.Core;
using Ketch.Server.Api;
using Ketch.Server.Member;
using Xunit;

namespace Ketch.Server.Tests;

public sealed class ReadIndexBatcherTests
{
    [Fact]
    public async Task A_batch_whose_first_reader_never_handed_it_over_is_still_sent_and_answered()
    {
        var reads = new ReadIndexBatcher();
        var first = reads.Join(out var kick);
        Assert.True(kick);
        // The first reader gave up before telling the loop; a later reader joins the same batch.
        var second = reads.Join(out var secondKick);
        Assert.False(secondKick);
        Assert.True(reads.HasCollecting);

        // The loop's clock finds the batch and sends it.
        Assert.True(reads.Send(context: 7, now: 1));
        Assert.False(reads.HasCollecting);
        reads.OnReadState(7, index: 5, applied: 5);
        Assert.Equal(5UL, await second);
        Assert.Equal(5UL, await first);
    }

    [Fact]
    public async Task An_unanswered_read_index_is_asked_again_under_its_context_then_fails_at_the_timeout()
    {
        var reads = new ReadIndexBatcher();
        var batch = reads.Join(out _);
        Assert.True(reads.Send(context: 9, now: 10));

        Assert.Empty(reads.Due(now: 14, retryAfter: 5, expireAfter: 20, EtcdErrors.Timeout, out var expired));
        Assert.Equal(0, expired);
        Assert.Equal([9UL], reads.Due(now: 15, retryAfter: 5, expireAfter: 20, EtcdErrors.Timeout, out _));
        // Asked at 15: not again before 20.
        Assert.Empty(reads.Due(now: 19, retryAfter: 5, expireAfter: 20, EtcdErrors.Timeout, out _));
        Assert.False(batch.IsCompleted);

        Assert.Empty(reads.Due(now: 30, retryAfter: 5, expireAfter: 20, EtcdErrors.Timeout, out expired));
        Assert.Equal(1, expired); // counted as a failed read index on /metrics
        var error = await Assert.ThrowsAsync<RpcException>(() => batch);
        Assert.Equal("etcdserver: request timed out", error.Status.Detail);
        Assert.Equal(0, reads.InflightCount);
        // A late answer to the expired context changes nothing.
        reads.OnReadState(9, index: 3, applied: 3);
    }

    [Fact]
    public async Task An_answer_to_a_retried_context_completes_the_batch_once()
    {
        var reads = new ReadIndexBatcher();
        var batch = reads.Join(out _);
        reads.Send(context: 4, now: 0);
        Assert.Equal([4UL], reads.Due(now: 5, retryAfter: 5, expireAfter: 100, EtcdErrors.Timeout, out _));

        reads.OnReadState(4, index: 8, applied: 6);
        Assert.False(batch.IsCompleted);   // waits for the apply
        reads.OnReadState(4, index: 9, applied: 6); // the retry's answer: nothing left to answer
        reads.OnApplied(8);
        Assert.Equal(8UL, await batch);
        Assert.Equal(0, reads.InflightCount);
    }
}
