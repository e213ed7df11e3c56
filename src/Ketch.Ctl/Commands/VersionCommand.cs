namespace Ketch.Ctl.Commands;

/// <summary><c>version</c>.</summary>
internal sealed class VersionCommand : Command
{
    /// <summary>ketchctl's version.</summary>
    public const string Version = "0.1.0";

    public override string Name => "version";

    public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
    {
        await ctx.Out.WriteAsync($"ketchctl version: {Version}\nAPI version: 3.5\n").ConfigureAwait(false);
        return 0;
    }
}
