namespace Ketch.Ctl;

/// <summary>One ketchctl verb (or verb and sub-verb, e.g. <c>lease grant</c>).</summary>
internal abstract class Command
{
    /// <summary>The words that name it, e.g. <c>"lease grant"</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Its own flags (global flags are added by the runner).</summary>
    public virtual IReadOnlyList<Flag> Flags => [];

    /// <summary>One line for the command lists of help (cobra's <c>Short</c>).</summary>
    public virtual string Short => "";

    /// <summary>The arguments after the name on help's usage line, e.g. <c>[options] &lt;key&gt; [range_end]</c>.</summary>
    public virtual string Usage => "";

    /// <summary>Longer prose for help's DESCRIPTION section (cobra's <c>Long</c>); empty: no section.</summary>
    public virtual string Description => "";

    /// <summary>Whether help's usage line ends with <c>[flags]</c> (cobra's <c>DisableFlagsInUseLine</c> turns it off,
    /// as etcdctl's <c>completion bash</c> does).</summary>
    public virtual bool FlagsInUsage => true;

    public abstract Task<int> RunAsync(CtlContext ctx, ParsedArgs args);
}

/// <summary>A word that groups commands (<c>member</c>, <c>lease</c>, ...): it runs nothing itself; alone, or
/// with a word that is none of its commands, it prints its help (as cobra does for a command without Run).</summary>
/// <param name="Name">The word.</param>
/// <param name="Short">One line for help.</param>
/// <param name="Usage">The arguments after the name on help's usage line, e.g. <c>&lt;subcommand&gt;</c>.</param>
/// <param name="Persistent">Flags that every command of the group takes (<c>endpoint --cluster</c>): help lists
/// them under the group's OPTIONS and its commands' GLOBAL OPTIONS.</param>
/// <param name="Description">Longer prose for the group's DESCRIPTION section; empty: no section.</param>
internal sealed record CommandGroup(string Name, string Short, string Usage = "<subcommand>", IReadOnlyList<Flag>? Persistent = null, string Description = "");
