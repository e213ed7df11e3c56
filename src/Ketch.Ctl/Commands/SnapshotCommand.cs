namespace Ketch.Ctl.Commands;

/// <summary><c>snapshot save &lt;filename&gt;</c>: streams the member's backend to <c>filename.part</c>, then renames it.</summary>
internal sealed class SnapshotCommand : Command
{
    public override string Name => "snapshot save";

    public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
    {
        if (args.Positional.Count != 1)
        {
            throw CtlContext.BadArgs("snapshot save expects one argument");
        }
        if (ctx.Endpoints.Count != 1)
        {
            throw CtlContext.BadArgs($"snapshot must be requested to one selected node, not multiple [{string.Join(" ", ctx.Endpoints)}]");
        }
        var path = args.Positional[0];
        var part = path + ".part";
        using var client = ctx.Client();
        try
        {
            await using (var file = File.Create(part))
            {
                await client.Maintenance.SnapshotAsync(file, null, ctx.Interrupt).ConfigureAwait(false);
                await file.FlushAsync(ctx.Interrupt).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }
            File.Move(part, path, overwrite: true);
        }
        catch (IOException ex)
        {
            throw new CtlException(ExitCode.IO, ex.Message);
        }
        await ctx.Out.WriteAsync($"Snapshot saved at {path}\n").ConfigureAwait(false);
        return 0;
    }
}
