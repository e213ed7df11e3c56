namespace Ketch.Ctl.Commands;

/// <summary><c>help [command]</c>: the help page of a command or group; an unknown topic is reported on stderr
/// and the root page printed (exit 0), as cobra's help command does.</summary>
internal sealed class HelpCommand : Command
{
    public override string Name => "help";

    public override string Short => "Shows help for any command";

    public override string Usage => "[command]";

    public override string Description =>
        $"Prints the help page of the command it is given, or of {Help.Binary} itself.\n" +
        $"For example: {Help.Binary} help [words of the command].";

    public override async Task<int> RunAsync(CtlContext ctx, ParsedArgs args)
    {
        var page = Help.Topic(args.Positional);
        if (page is null)
        {
            await ctx.Err.WriteAsync($"Unknown help topic [{string.Join(" ", args.Positional.Select(w => $"`{w}`"))}]\n").ConfigureAwait(false);
            page = Help.Root(helpFlag: false);
        }
        await ctx.Out.WriteAsync(page).ConfigureAwait(false);
        return 0;
    }
}
