using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Tests;

public sealed class KvTests(SingleMemberFixture fixture) : IClassFixture<SingleMemberFixture>
{
    private TestMember M => fixture.Member;

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    [Fact]
    public async Task Put_then_get_returns_value_and_header()
    {
        var put = await M.Kv.PutAsync(new PutRequest { Key = B("kv1/a"), Value = B("1") });
        Assert.True(put.Header.Revision > 1);
        Assert.Equal(M.Server.MemberId, put.Header.MemberId);
        Assert.Equal(M.Server.ClusterId, put.Header.ClusterId);
        Assert.True(put.Header.RaftTerm >= 1);
        var get = await M.Kv.RangeAsync(new RangeRequest { Key = B("kv1/a") });
        Assert.Single(get.Kvs);
        Assert.Equal("1", get.Kvs[0].Value.ToStringUtf8());
        Assert.Equal(put.Header.Revision, get.Kvs[0].ModRevision);
        Assert.Equal(put.Header.Revision, get.Header.Revision);
        var serial = await M.Kv.RangeAsync(new RangeRequest { Key = B("kv1/a"), Serializable = true });
        Assert.Equal("1", serial.Kvs[0].Value.ToStringUtf8());
    }

    [Fact]
    public async Task Range_options_prefix_limit_sort_keysonly_countonly_revision()
    {
        foreach (var k in new[] { "c", "a", "b" })
        {
            await M.Kv.PutAsync(new PutRequest { Key = B("kv2/" + k), Value = B("v" + k) });
        }
        var before = (await M.Kv.RangeAsync(new RangeRequest { Key = B("kv2/a") })).Header.Revision;
        await M.Kv.PutAsync(new PutRequest { Key = B("kv2/a"), Value = B("new") });
        var all = await M.Kv.RangeAsync(new RangeRequest { Key = B("kv2/"), RangeEnd = B("kv20") });
        Assert.Equal(["kv2/a", "kv2/b", "kv2/c"], all.Kvs.Select(k => k.Key.ToStringUtf8()));
        Assert.Equal(3, all.Count);
        var limited = await M.Kv.RangeAsync(new RangeRequest { Key = B("kv2/"), RangeEnd = B("kv20"), Limit = 2 });
        Assert.Equal(2, limited.Kvs.Count);
        Assert.True(limited.More);
        Assert.Equal(3, limited.Count);
        var desc = await M.Kv.RangeAsync(new RangeRequest { Key = B("kv2/"), RangeEnd = B("kv20"), SortOrder = RangeRequest.Types.SortOrder.Descend });
        Assert.Equal(["kv2/c", "kv2/b", "kv2/a"], desc.Kvs.Select(k => k.Key.ToStringUtf8()));
        var keysOnly = await M.Kv.RangeAsync(new RangeRequest { Key = B("kv2/"), RangeEnd = B("kv20"), KeysOnly = true });
        Assert.All(keysOnly.Kvs, kv => Assert.True(kv.Value.IsEmpty));
        var countOnly = await M.Kv.RangeAsync(new RangeRequest { Key = B("kv2/"), RangeEnd = B("kv20"), CountOnly = true });
        Assert.Empty(countOnly.Kvs);
        Assert.Equal(3, countOnly.Count);
        var old = await M.Kv.RangeAsync(new RangeRequest { Key = B("kv2/a"), Revision = before });
        Assert.Equal("va", old.Kvs[0].Value.ToStringUtf8());
        var fromKey = await M.Kv.RangeAsync(new RangeRequest { Key = B("kv2/b"), RangeEnd = B("\0") });
        Assert.Equal("kv2/b", fromKey.Kvs[0].Key.ToStringUtf8());
    }

    [Fact]
    public async Task A_range_end_sent_empty_reads_every_key_from_the_key_on_as_etcd_does()
    {
        // protobufjs (the npm etcd3 client's getAll().inRange(key)) sends range_end present and
        // empty; etcd reads that as "\0". Not sent at all, it is the key alone.
        foreach (var k in new[] { "kv5/a", "kv5/b", "kv5/c" })
        {
            await M.Kv.PutAsync(new PutRequest { Key = B(k), Value = B("v") });
        }
        var sent = new RangeRequest { Key = B("kv5/b"), RangeEnd = ByteString.Empty, KeysOnly = true };
        Assert.True(sent.HasRangeEnd);
        var keys = (await M.Kv.RangeAsync(sent)).Kvs.Select(kv => kv.Key.ToStringUtf8()).ToList();
        Assert.Equal(["kv5/b", "kv5/c"], keys.Where(k => k.StartsWith("kv5/", StringComparison.Ordinal)));
        var alone = (await M.Kv.RangeAsync(new RangeRequest { Key = B("kv5/b"), KeysOnly = true })).Kvs;
        Assert.Equal("kv5/b", Assert.Single(alone).Key.ToStringUtf8());
        var inTxn = await M.Kv.TxnAsync(new TxnRequest { Success = { new RequestOp { RequestRange = sent } } });
        Assert.Contains(inTxn.Responses[0].ResponseRange.Kvs, kv => kv.Key.ToStringUtf8() == "kv5/c");
    }

    [Fact]
    public async Task Delete_with_prev_kv_takes_one_revision()
    {
        await M.Kv.PutAsync(new PutRequest { Key = B("kv3/a"), Value = B("1") });
        var p = await M.Kv.PutAsync(new PutRequest { Key = B("kv3/b"), Value = B("2") });
        var del = await M.Kv.DeleteRangeAsync(new DeleteRangeRequest { Key = B("kv3/"), RangeEnd = B("kv30"), PrevKv = true });
        Assert.Equal(2, del.Deleted);
        Assert.Equal(2, del.PrevKvs.Count);
        Assert.Equal(p.Header.Revision + 1, del.Header.Revision);
        var get = await M.Kv.RangeAsync(new RangeRequest { Key = B("kv3/"), RangeEnd = B("kv30") });
        Assert.Empty(get.Kvs);
    }

    [Fact]
    public async Task Txn_compare_branches()
    {
        await M.Kv.PutAsync(new PutRequest { Key = B("kv4/x"), Value = B("1") });
        var txn = new TxnRequest();
        txn.Compare.Add(new Compare { Key = B("kv4/x"), Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = B("1") });
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B("kv4/y"), Value = B("ok") } });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = B("kv4/x") } });
        var r = await M.Kv.TxnAsync(txn);
        Assert.True(r.Succeeded);
        Assert.NotNull(r.Responses[0].ResponsePut);
        var again = await M.Kv.TxnAsync(new TxnRequest
        {
            Compare = { new Compare { Key = B("kv4/x"), Target = Compare.Types.CompareTarget.Value, Result = Compare.Types.CompareResult.Equal, Value = B("2") } },
            Failure = { new RequestOp { RequestRange = new RangeRequest { Key = B("kv4/y") } } },
        });
        Assert.False(again.Succeeded);
        Assert.Equal("ok", again.Responses[0].ResponseRange.Kvs[0].Value.ToStringUtf8());
    }

    [Fact]
    public async Task A_missing_lease_fails_a_txn_only_in_the_branch_that_runs()
    {
        var missingLease = 0x5eed_0000_0001L;
        var txn = new TxnRequest
        {
            Compare = { new Compare { Key = B("kv4b/absent"), Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Greater, CreateRevision = 0 } },
            Success = { new RequestOp { RequestPut = new PutRequest { Key = B("kv4b/leased"), Value = B("x"), Lease = missingLease } } },
            Failure = { new RequestOp { RequestPut = new PutRequest { Key = B("kv4b/else"), Value = B("y") } } },
        };
        var r = await M.Kv.TxnAsync(txn); // the compare fails: the lease is never used, as etcd
        Assert.False(r.Succeeded);
        Assert.Equal(1, (await M.Kv.RangeAsync(new RangeRequest { Key = B("kv4b/else") })).Count);

        txn.Compare[0].Result = Compare.Types.CompareResult.Equal; // now the put with the missing lease runs
        var e = await Assert.ThrowsAsync<RpcException>(() => M.Kv.TxnAsync(txn).ResponseAsync);
        Assert.Equal((StatusCode.NotFound, "etcdserver: requested lease not found"), (e.StatusCode, e.Status.Detail));
        Assert.Equal(0, (await M.Kv.RangeAsync(new RangeRequest { Key = B("kv4b/leased") })).Count);

        // In a nested txn too: only the path taken is checked.
        var nested = new TxnRequest
        {
            Success =
            {
                new RequestOp
                {
                    RequestTxn = new TxnRequest
                    {
                        Compare = { new Compare { Key = B("kv4b/absent"), Target = Compare.Types.CompareTarget.Version, Result = Compare.Types.CompareResult.Greater, Version = 0 } },
                        Success = { new RequestOp { RequestPut = new PutRequest { Key = B("kv4b/n1"), Value = B("x"), Lease = missingLease } } },
                        Failure = { new RequestOp { RequestPut = new PutRequest { Key = B("kv4b/n2"), Value = B("y") } } },
                    },
                },
            },
        };
        var outer = await M.Kv.TxnAsync(nested);
        Assert.True(outer.Succeeded);
        Assert.Equal(1, (await M.Kv.RangeAsync(new RangeRequest { Key = B("kv4b/n2") })).Count);
        // As etcd: only the outer response's header carries the revision.
        Assert.True(outer.Header.Revision > 0);
        Assert.Equal(0, outer.Responses[0].ResponseTxn.Header.Revision);
        Assert.False(outer.Responses[0].ResponseTxn.Succeeded);
    }

    [Fact]
    public async Task Raw_txns_with_unknown_compare_enums_or_empty_ops_are_refused()
    {
        foreach (var (target, result) in new[] { ((Compare.Types.CompareTarget)99, Compare.Types.CompareResult.Equal), (Compare.Types.CompareTarget.Version, (Compare.Types.CompareResult)99) })
        {
            var compare = new Compare { Key = B("kv4c/x"), Target = target, Result = result };
            var write = new TxnRequest { Compare = { compare }, Success = { new RequestOp { RequestPut = new PutRequest { Key = B("kv4c/y"), Value = B("v") } } } };
            var read = new TxnRequest { Compare = { compare }, Success = { new RequestOp { RequestRange = new RangeRequest { Key = B("kv4c/y") } } } };
            foreach (var txn in new[] { write, read })
            {
                var e = await Assert.ThrowsAsync<RpcException>(() => M.Kv.TxnAsync(txn).ResponseAsync);
                Assert.Equal((StatusCode.InvalidArgument, "etcdserver: invalid compare target or result"), (e.StatusCode, e.Status.Detail));
            }
        }
        var empty = await Assert.ThrowsAsync<RpcException>(() => M.Kv.TxnAsync(new TxnRequest { Success = { new RequestOp() } }).ResponseAsync);
        Assert.Equal((StatusCode.InvalidArgument, "etcdserver: key not found"), (empty.StatusCode, empty.Status.Detail));
        Assert.Equal(0, (await M.Kv.RangeAsync(new RangeRequest { Key = B("kv4c/y") })).Count);
        await M.Kv.PutAsync(new PutRequest { Key = B("kv4c/after"), Value = B("v") }); // still serving
    }

    [Fact]
    public async Task Compact_then_old_revision_is_out_of_range()
    {
        var p1 = await M.Kv.PutAsync(new PutRequest { Key = B("kv5/a"), Value = B("1") });
        await M.Kv.PutAsync(new PutRequest { Key = B("kv5/a"), Value = B("2") });
        await M.Kv.CompactAsync(new CompactionRequest { Revision = p1.Header.Revision + 1 });
        var e = await Assert.ThrowsAsync<RpcException>(() => M.Kv.RangeAsync(new RangeRequest { Key = B("kv5/a"), Revision = p1.Header.Revision }).ResponseAsync);
        Assert.Equal(StatusCode.OutOfRange, e.StatusCode);
        Assert.Equal("etcdserver: mvcc: required revision has been compacted", e.Status.Detail);
        var again = await Assert.ThrowsAsync<RpcException>(() => M.Kv.CompactAsync(new CompactionRequest { Revision = p1.Header.Revision }).ResponseAsync);
        Assert.Equal(StatusCode.OutOfRange, again.StatusCode);
        var future = await Assert.ThrowsAsync<RpcException>(() => M.Kv.RangeAsync(new RangeRequest { Key = B("kv5/a"), Revision = 1_000_000 }).ResponseAsync);
        Assert.Equal("etcdserver: mvcc: required revision is a future revision", future.Status.Detail);
    }

    [Fact]
    public async Task Errors_and_limits_are_etcds()
    {
        var empty = await Assert.ThrowsAsync<RpcException>(() => M.Kv.PutAsync(new PutRequest { Value = B("x") }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, empty.StatusCode);
        Assert.Equal("etcdserver: key is not provided", empty.Status.Detail);

        var big = await Assert.ThrowsAsync<RpcException>(() => M.Kv.PutAsync(new PutRequest { Key = B("kv6/big"), Value = ByteString.CopyFrom(new byte[(1536 * 1024) + 10]) }).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, big.StatusCode);
        Assert.Equal("etcdserver: request is too large", big.Status.Detail);

        var txn = new TxnRequest();
        for (var i = 0; i < 129; i++)
        {
            txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = B($"kv6/t{i}"), Value = B("v") } });
        }
        var many = await Assert.ThrowsAsync<RpcException>(() => M.Kv.TxnAsync(txn).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, many.StatusCode);
        Assert.Equal("etcdserver: too many operations in txn request", many.Status.Detail);

        var dup = new TxnRequest
        {
            Success =
            {
                new RequestOp { RequestPut = new PutRequest { Key = B("kv6/d"), Value = B("1") } },
                new RequestOp { RequestPut = new PutRequest { Key = B("kv6/d"), Value = B("2") } },
            },
        };
        var dupErr = await Assert.ThrowsAsync<RpcException>(() => M.Kv.TxnAsync(dup).ResponseAsync);
        Assert.Equal("etcdserver: duplicate key given in txn request", dupErr.Status.Detail);

        var lease = await Assert.ThrowsAsync<RpcException>(() => M.Kv.PutAsync(new PutRequest { Key = B("kv6/l"), Value = B("x"), Lease = 12345 }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, lease.StatusCode);
        Assert.Equal("etcdserver: requested lease not found", lease.Status.Detail);

        // The member keeps serving after every refusal.
        var ok = await M.Kv.PutAsync(new PutRequest { Key = B("kv6/ok"), Value = B("fine") });
        Assert.True(ok.Header.Revision > 0);
    }

    [Fact]
    public async Task Concurrent_writes_and_linearizable_reads()
    {
        var tasks = Enumerable.Range(0, 50).Select(async i =>
        {
            await M.Kv.PutAsync(new PutRequest { Key = B($"kv7/{i:D3}"), Value = B(i.ToString(System.Globalization.CultureInfo.InvariantCulture)) });
            var r = await M.Kv.RangeAsync(new RangeRequest { Key = B($"kv7/{i:D3}") });
            Assert.Single(r.Kvs);
        });
        await Task.WhenAll(tasks);
        var all = await M.Kv.RangeAsync(new RangeRequest { Key = B("kv7/"), RangeEnd = B("kv70"), CountOnly = true });
        Assert.Equal(50, all.Count);
    }
}
