using Grpc.Core;
using Ketch.Server.Api;
using Ketch.Server.Apply;
using Ketch.Server.Member;
using Xunit;

namespace Ketch.Server.Tests;

public sealed class WaitersTests
{
    [Fact]
    public async Task A_waiter_times_out_at_its_deadline_on_the_loops_clock_and_not_before()
    {
        var waiters = new Waiters(capacity: 10);
        var early = waiters.Register(1, deadline: 100)!;
        var late = waiters.Register(2, deadline: 200)!;

        waiters.ExpireDue(now: 99, EtcdErrors.Timeout);
        Assert.False(early.Task.IsCompleted);

        waiters.ExpireDue(now: 150, EtcdErrors.Timeout);
        var error = await Assert.ThrowsAsync<RpcException>(() => early.Task);
        Assert.Equal("etcdserver: request timed out", error.Status.Detail);
        Assert.False(late.Task.IsCompleted);
        Assert.Equal(1, waiters.Count);

        var result = ApplyResult.Fail(EtcdErrors.TooManyRequests);
        waiters.Trigger(2, result);
        Assert.Same(result, await late.Task);
        Assert.Equal(0, waiters.Count);
    }

    [Fact]
    public void Registration_is_refused_beyond_capacity()
    {
        var waiters = new Waiters(capacity: 2);
        Assert.NotNull(waiters.Register(1, 10));
        Assert.NotNull(waiters.Register(2, 10));
        Assert.Null(waiters.Register(3, 10));
        waiters.ExpireDue(now: 10, EtcdErrors.Timeout);
        Assert.NotNull(waiters.Register(3, 20));
    }
}
