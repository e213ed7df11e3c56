namespace Ketch.Ctl.Commands;

/// <summary><c>version</c>.</summary>
internal sealed class VersionCommand : Command
{
    /// <summary>ketchctl's version.</summary>
    public const string Version = "0.1.0";

    /// <summary>The etcd v3 API version ketchctl speaks.</summary>
    public const string ApiVersion = "3.5";

    public override string Name => "version";

    public override string Short => "Prints the version of ketchctl";

    public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
    {
        await ctx.Out.WriteAsync($"ketchctl version: {Version}\nAPI version: {ApiVersion}\n").ConfigureAwait(false);
        return 0;
    }
}
