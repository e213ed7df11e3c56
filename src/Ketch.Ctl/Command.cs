namespace Ketch.Ctl;

/// <summary>One ketchctl verb (or verb and sub-verb, e.g. <c>lease grant</c>).</summary>
internal abstract class Command
{
    /// <summary>The words that name it, e.g. <c>"lease grant"</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Its own flags (global flags are added by the runner).</summary>
    public virtual IReadOnlyList<Flag> Flags => [];

    public abstract Task<int> RunAsync(CtlContext ctx, ParsedArgs args);
}
