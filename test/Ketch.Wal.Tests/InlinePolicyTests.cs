using System.Diagnostics;
using Xunit;

namespace Ketch.Wal.Tests;

/// <summary>
/// The choice between writing an idle append on the caller's thread and handing it to the writer
/// thread, fed with the cycle times of a closed-loop appender on a made-up machine where one mode
/// takes longer than the other.
/// </summary>
public sealed class InlinePolicyTests
{
    private static long Micros(double us) => (long)(us * Stopwatch.Frequency / 1_000_000);

    /// <summary>Runs <paramref name="appends"/> closed-loop appends, each taking the cycle of the mode
    /// the policy chose for it; returns the share of inline choices in the last half.</summary>
    private static double InlineShare(InlinePolicy policy, double inlineUs, double handoffUs, int appends = 20_000)
    {
        long now = Micros(1_000);
        var inlineInLastHalf = 0;
        for (var i = 0; i < appends; i++)
        {
            var inline = policy.Choose(now);
            now += Micros(inline ? inlineUs : handoffUs);
            if (i >= appends / 2 && inline)
            {
                inlineInLastHalf++;
            }
        }
        return inlineInLastHalf / (appends / 2.0);
    }

    [Fact]
    public void Where_the_caller_syncing_itself_is_faster_it_goes_inline()
    {
        // The machine of 2026-11-28: two thread wake-ups cost ~30 us next to a ~100 us fdatasync.
        var policy = new InlinePolicy();
        Assert.False(policy.PrefersInline);
        var share = InlineShare(policy, inlineUs: 100, handoffUs: 130);
        Assert.True(policy.PrefersInline);
        // Everything but the probes of the other mode.
        var expected = 1 - (double)InlinePolicy.ProbeRun / (InlinePolicy.ExploitRun + InlinePolicy.ProbeRun);
        Assert.InRange(share, expected - 0.01, expected + 0.01);
    }

    [Fact]
    public void Where_the_handoff_is_faster_it_hands_off()
    {
        // The machine of 2026-11-27: a caller syncing itself ran at 0.4-0.8x the handoff.
        var policy = new InlinePolicy();
        var share = InlineShare(policy, inlineUs: 250, handoffUs: 120);
        Assert.False(policy.PrefersInline);
        var expected = (double)InlinePolicy.ProbeRun / (InlinePolicy.ExploitRun + InlinePolicy.ProbeRun);
        Assert.InRange(share, expected - 0.01, expected + 0.01);
    }

    [Fact]
    public void It_follows_the_machine_when_that_changes()
    {
        var policy = new InlinePolicy();
        InlineShare(policy, inlineUs: 100, handoffUs: 130);
        Assert.True(policy.PrefersInline);
        InlineShare(policy, inlineUs: 150, handoffUs: 110);
        Assert.False(policy.PrefersInline);
    }

    [Fact]
    public void A_difference_within_five_percent_does_not_make_it_switch()
    {
        var policy = new InlinePolicy();
        InlineShare(policy, inlineUs: 100, handoffUs: 103);
        Assert.False(policy.PrefersInline);
    }

    [Fact]
    public void Gaps_in_which_the_caller_did_other_things_are_not_counted()
    {
        // Every inline append is followed by 20 ms of something else: no cycle of the inline mode is
        // measured, so nothing says it is faster, whatever the handoff's cycles are.
        var policy = new InlinePolicy();
        InlineShare(policy, inlineUs: 20_000, handoffUs: 130);
        Assert.False(policy.PrefersInline);
    }
}
