using CsCheck;
using Xunit;
using static Ketch.Mvcc.Tests.Stores;

namespace Ketch.Mvcc.Tests;

/// <summary>
/// Random operation sequences run against the store and the reference <see cref="Model"/>; every
/// answer (revisions, versions, errors) must be identical. Includes reopening the store, which
/// rebuilds the index from RocksDB, and compaction.
/// </summary>
public sealed class ModelBasedTests
{
    internal static readonly string[] Keys = ["a", "ab", "b", "c", "cd", "d"];
    private static readonly string?[] Ends = [null, null, null, "\0", "b", "c", "d", "e", "ab", "a"];
    private static readonly string[] Values = ["", "x", "y", "z"];

    private static readonly Gen<string> GKey = Gen.OneOfConst(Keys);
    private static readonly Gen<string?> GEnd = Gen.OneOfConst(Ends);

    internal static readonly Gen<Op> GPut =
        Gen.Select(GKey, Gen.OneOfConst(Values), Gen.Int[0, 2], Gen.Bool, Gen.Int[0, 9], Gen.Int[0, 9])
            .Select((k, v, lease, prev, iv, il) =>
                (Op)new PutOp(k, iv == 0 ? "" : v, il == 0 ? 0 : lease, prev, iv == 0, il == 0));

    internal static readonly Gen<Op> GDelete =
        Gen.Select(GKey, GEnd, Gen.Bool).Select((k, e, p) => (Op)new DeleteOp(k, e, p));

    internal static readonly Gen<Op> GRange =
        Gen.Select(Gen.Select(Gen.OneOfConst([.. Keys, "\0"]), GEnd, Gen.Int[-1, 6], Gen.Int[0, 3]),
                Gen.Select(Gen.Int[0, 2], Gen.Int[0, 4], Gen.Bool, Gen.Int[0, 9]),
                Gen.Select(Gen.Int[0, 8], Gen.Int[0, 8], Gen.Int[0, 8], Gen.Int[0, 8]))
            .Select((a, b, c) => (Op)new RangeOp(
                a.Item1, a.Item2, a.Item3, a.Item4,
                (SortOrder)b.Item1, (SortTarget)b.Item2, b.Item3, b.Item4 == 0,
                c.Item1 > 5 ? c.Item1 - 3 : 0, c.Item2 > 5 ? c.Item2 : 0, c.Item3 > 5 ? c.Item3 - 4 : 0, c.Item4 > 5 ? c.Item4 : 0));

    internal static readonly Gen<Compare> GCompare =
        Gen.Select(GKey, Gen.Int[0, 9], Gen.Int[0, 4], Gen.Int[0, 3], Gen.Int[0, 6], Gen.OneOfConst(Values))
            .Select((k, e, t, r, n, v) => new Compare
            {
                Key = B(k),
                RangeEnd = e == 0 ? B("e") : null,
                Target = (CompareTarget)t,
                Result = (CompareResult)r,
                Number = n,
                Value = B(v),
            });

    private static readonly Gen<Op> GTxn =
        Gen.Select(GCompare.Array[0, 2], Gen.OneOf(GPut, GDelete, GRange).Array[0, 3], Gen.OneOf(GPut, GDelete, GRange).Array[0, 3])
            .Select((c, s, f) => (Op)new TxnOp(c, s, f));

    private static readonly Gen<Op> GOp = Gen.Frequency(
        (6, GPut), (2, GDelete), (4, GRange), (3, GTxn),
        (1, Gen.Int[-1, 5].Select(d => (Op)new CompactOp(d))),
        (1, Gen.Const((Op)new ReopenOp())));

    [Fact]
    public void Store_matches_model_on_random_histories()
    {
        GOp.Array[1, 40].Sample(ops =>
        {
            using var dir = new TempDir();
            var store = KvStore.Open(Options(dir.Path));
            try
            {
                var model = new Model();
                for (var i = 0; i < ops.Length; i++)
                {
                    if (ops[i] is ReopenOp)
                    {
                        store.Dispose();
                        store = KvStore.Open(Options(dir.Path));
                        Assert.Equal(model.Current, store.CurrentRevision);
                        continue;
                    }

                    var expected = Run(() => ops[i].On(model, model.Current));
                    var actual = Run(() => ops[i].On(store, store.CurrentRevision));
                    if (expected != actual)
                    {
                        throw new Xunit.Sdk.XunitException($"op {i} {ops[i]}\n expected {expected}\n actual   {actual}");
                    }
                }
            }
            finally
            {
                store.Dispose();
            }
        }, iter: 150, threads: 1);
    }

    internal static string Run(Func<string> f)
    {
        try
        {
            return f();
        }
        catch (MvccException e)
        {
            return "error: " + e.Message;
        }
    }

    internal abstract record Op
    {
        public abstract RequestOp ToRequest(long current);

        public string On(Model m, long current) => Dispatch(ToRequest(current), m.Range, m.Put, m.Delete, m.Txn, m.Compact, this);

        public string On(KvStore s, long current) => Dispatch(ToRequest(current), s.Range, s.Put, s.DeleteRange, s.Txn, s.Compact, this);

        private static string Dispatch(RequestOp r, Func<RangeRequest, RangeResponse> range, Func<PutRequest, PutResponse> put,
            Func<DeleteRangeRequest, DeleteRangeResponse> delete, Func<TxnRequest, TxnResponse> txn, Action<long> compact, Op op)
        {
            if (op is CompactOp c)
            {
                compact(c.RevisionOf);
                return "compacted";
            }

            return r.Range is { } rr ? Describe.Range(range(rr))
                : r.Put is { } p ? Describe.Put(put(p))
                : r.DeleteRange is { } d ? Describe.Delete(delete(d))
                : Describe.Txn(txn(r.Txn!));
        }
    }

    internal sealed record PutOp(string Key, string Value, long Lease, bool PrevKv, bool IgnoreValue, bool IgnoreLease) : Op
    {
        public override RequestOp ToRequest(long current) => new()
        {
            Put = new PutRequest { Key = B(Key), Value = B(Value), Lease = Lease, PrevKv = PrevKv, IgnoreValue = IgnoreValue, IgnoreLease = IgnoreLease },
        };
    }

    internal sealed record DeleteOp(string Key, string? End, bool PrevKv) : Op
    {
        public override RequestOp ToRequest(long current) => new()
        {
            DeleteRange = new DeleteRangeRequest { Key = B(Key), RangeEnd = End is null ? null : B(End), PrevKv = PrevKv },
        };
    }

    internal sealed record RangeOp(string Key, string? End, int RevBack, int Limit, SortOrder Order, SortTarget Target, bool KeysOnly, bool CountOnly,
        long MinMod, long MaxMod, long MinCreate, long MaxCreate) : Op
    {
        public override RequestOp ToRequest(long current) => new()
        {
            Range = new RangeRequest
            {
                Key = B(Key),
                RangeEnd = End is null ? null : B(End),
                Revision = RevBack == 0 ? 0 : Math.Max(0, current - RevBack + 1),
                Limit = Limit,
                SortOrder = Order,
                SortTarget = Target,
                KeysOnly = KeysOnly,
                CountOnly = CountOnly,
                MinModRevision = MinMod,
                MaxModRevision = MaxMod,
                MinCreateRevision = MinCreate,
                MaxCreateRevision = MaxCreate,
            },
        };
    }

    internal sealed record TxnOp(Compare[] Compares, Op[] Success, Op[] Failure) : Op
    {
        public override RequestOp ToRequest(long current) => new()
        {
            Txn = new TxnRequest
            {
                Compares = Compares,
                Success = [.. Success.Select(o => o.ToRequest(current))],
                Failure = [.. Failure.Select(o => o.ToRequest(current))],
            },
        };

        public override string ToString() =>
            $"Txn(if {string.Join(",", Compares.Select(c => $"{S(c.Key)}..{(c.RangeEnd is null ? "" : S(c.RangeEnd))} {c.Target} {c.Result} {c.Number}/'{S(c.Value)}'"))} then [{string.Join(", ", Success.Select(o => o.ToString()))}] else [{string.Join(", ", Failure.Select(o => o.ToString()))}])";
    }

    internal sealed record CompactOp(int Back) : Op
    {
        public long RevisionOf { get; private set; }

        public override RequestOp ToRequest(long current)
        {
            RevisionOf = current - Back;
            return new RequestOp();
        }
    }

    internal sealed record ReopenOp : Op
    {
        public override RequestOp ToRequest(long current) => new();
    }
}
