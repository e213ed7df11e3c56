namespace Ketch.Ctl;

/// <summary>etcdctl's <c>--user user[:password]</c> and <c>--password</c>: with <c>--password</c> the
/// user flag is the whole name; otherwise the password follows the first colon, and without one it
/// is asked for (etcdctl reads the terminal; we read a line of stdin).</summary>
internal static class CtlCredentials
{
    public static (string User, string Password)? From(CtlContext ctx)
    {
        var user = ctx.Args.Get("user");
        if (user.Length == 0)
        {
            return null;
        }
        var password = ctx.Args.Get("password");
        if (password.Length > 0)
        {
            return (user, password);
        }
        var colon = user.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            return (user[..colon], user[(colon + 1)..]);
        }
        ctx.Err.Write("Password: ");
        return (user, ctx.In.ReadLine() ?? "");
    }
}
