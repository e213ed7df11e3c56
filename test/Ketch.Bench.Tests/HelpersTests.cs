using Google.Protobuf;
using Ketch.Bench.Workloads;
using Xunit;

namespace Ketch.Bench.Tests;

public class HelpersTests
{
    [Fact]
    public async Task Budget_hands_out_exactly_the_total_to_concurrent_clients()
    {
        var budget = new OpBudget(10_000, null, CancellationToken.None);
        var taken = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            var n = 0;
            while (budget.TryTake())
            {
                n++;
            }
            return n;
        })));
        Assert.Equal(10_000, taken.Sum());
        Assert.False(budget.TryTake());
    }

    [Fact]
    public void Budget_stops_on_cancellation()
    {
        using var cancel = new CancellationTokenSource();
        var budget = new OpBudget(null, TimeSpan.FromHours(1), cancel.Token);
        Assert.True(budget.TryTake());
        cancel.Cancel();
        Assert.False(budget.TryTake());
    }

    [Fact]
    public void Sequential_keys_go_round_the_key_space_over_all_clients()
    {
        Assert.True(ArgParser.TryParse(["put", "--endpoints", "h:1", "--key-space", "5", "--sequential-keys", "--key-size", "3"], out var o, out _));
        var sequence = new SharedCounter();
        var a = new KeyMaker(o!, 0, sequence);
        var b = new KeyMaker(o!, 1, sequence);
        var seen = new List<long> { a.Next(), b.Next(), a.Next(), b.Next(), a.Next(), b.Next() };
        Assert.Equal([0L, 1, 2, 3, 4, 0], seen);
        Assert.Equal("004", a.Key.ToStringUtf8());
    }

    [Fact]
    public void Random_keys_stay_in_the_key_space_and_the_key_buffer_follows()
    {
        Assert.True(ArgParser.TryParse(["put", "--endpoints", "h:1", "--key-space", "100"], out var o, out _));
        var keys = new KeyMaker(o!, 3, new SharedCounter());
        for (var i = 0; i < 1000; i++)
        {
            var n = keys.Next();
            Assert.InRange(n, 0, 99);
            Assert.Equal(n.ToString("D8", System.Globalization.CultureInfo.InvariantCulture), keys.Key.ToStringUtf8());
        }
    }

    [Fact]
    public async Task Fsync_probe_syncs_the_total_and_removes_its_file()
    {
        var dir = Directory.CreateTempSubdirectory("ketch-bench-probe-");
        try
        {
            Assert.True(ArgParser.TryParse(["fsync-probe", "--path", dir.FullName, "--total", "20", "--no-progress"], out var o, out var error), error);
            using var pool = new ChannelPool(o!.Endpoints, o.Conns);
            var r = await new FsyncProbeWorkload().RunAsync(new BenchContext(o, pool, CancellationToken.None));
            Assert.Equal((20L, 0L), (r.Ops, r.ErrorCount));
            Assert.Empty(dir.EnumerateFiles());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void Cpu_ticks_come_from_utime_and_stime_even_with_spaces_in_the_name()
    {
        const string stat = "4242 (dotnet worker) S 1 4242 4242 0 -1 4194560 1000 0 0 0 123 45 0 0 20 0 8 0 100 0 0";
        Assert.Equal(168, CpuSampler.ParseCpuTicks(stat));
        Assert.Null(CpuSampler.ParseCpuTicks("garbage"));
        Assert.NotNull(CpuSampler.ServerTicks([Environment.ProcessId]));
        Assert.Null(CpuSampler.ServerTicks([int.MaxValue]));
    }

    [Theory]
    [InlineData("abc", "abd")]
    [InlineData("a\xff", "b")]
    [InlineData("", "\0")]
    public void Prefix_end_is_etcds(string prefix, string end)
    {
        static ByteString Bytes(string s) => ByteString.CopyFrom(s.Select(c => (byte)c).ToArray());
        Assert.Equal(Bytes(end), RangeWorkload.PrefixEnd(Bytes(prefix)));
    }
}
