using Ketch.Api.Etcdserverpb;

namespace Ketch.Ctl.Commands;

/// <summary><c>alarm list|disarm</c>.</summary>
internal static class AlarmCommand
{
    public static Command[] All => [new List(), new Disarm()];

    /// <summary>The group's word, for help.</summary>
    public static CommandGroup Group { get; } = new("alarm", "Commands on alarms");

    private sealed class List : Command
    {
        public override string Name => "alarm list";

        public override string Short => "Lists the raised alarms";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            ctx.Printer().Alarm(await client.Maintenance.AlarmListAsync(cts.Token).ConfigureAwait(false));
            return 0;
        }
    }

    private sealed class Disarm : Command
    {
        public override string Name => "alarm disarm";

        public override string Short => "Clears every alarm";

        public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
        {
            using var client = ctx.Client();
            using var cts = ctx.Timeout();
            // As clientv3's AlarmDisarm with an empty member: list, then disarm each active alarm.
            var active = await client.Maintenance.AlarmListAsync(cts.Token).ConfigureAwait(false);
            var result = new AlarmResponse { Header = active.Header };
            foreach (var a in active.Alarms)
            {
                var r = await client.Maintenance.AlarmDisarmAsync(a.MemberID, a.Alarm, cts.Token).ConfigureAwait(false);
                result.Header = r.Header;
                result.Alarms.AddRange(r.Alarms);
            }
            ctx.Printer().Alarm(result);
            return 0;
        }
    }
}
