namespace Ketch.Ctl;

/// <summary>etcdctl's <c>--user user[:password]</c> and <c>--password</c>: with <c>--password</c> the
/// user flag is the whole name; otherwise the password follows the first colon, and without one it
/// is asked for (<see cref="AskPassword"/>).</summary>
internal static class CtlCredentials
{
    /// <summary>The user to authenticate as, or null. As clientv3, an empty name or password means no authentication
    /// at all (requests then fail as anonymous ones).</summary>
    public static (string User, string Password)? From(CtlContext ctx)
    {
        var user = ctx.Args.Get("user");
        if (user.Length == 0)
        {
            return null;
        }
        var password = ctx.Args.Get("password");
        if (password.Length == 0)
        {
            var colon = user.IndexOf(':', StringComparison.Ordinal);
            (user, password) = colon >= 0 ? (user[..colon], user[(colon + 1)..]) : (user, AskPassword(ctx, "Password: "));
        }
        return user.Length > 0 && password.Length > 0 ? (user, password) : null;
    }

    /// <summary>
    /// etcdctl's prompt (speakeasy): the prompt on stdout; the password typed on the terminal with echo off,
    /// or, when stdin is no terminal, the next line of stdin (at its end: what was read, maybe nothing), blanks
    /// trimmed; then a newline on stdout. etcdctl runs stty on a non-terminal stdin as well, and shows stty's complaint on
    /// stderr; we do not.
    /// </summary>
    public static string AskPassword(CtlContext ctx, string prompt)
    {
        ctx.Out.Write(prompt);
        ctx.Out.Flush();
        // The read blocks; Ctrl-C (handled by Program) cancels the wait, and the process then exits.
        var read = Task.Run(() => ctx.InIsTerminal ? ReadHidden() : ctx.In.ReadLine() ?? "");
        read.Wait(ctx.Interrupt);
        ctx.Out.Write('\n');
        // etcdctl takes what was typed without surrounding blanks (not so a password on the command line).
        return read.Result.Trim();
    }

    /// <summary>A line from the console's terminal without echoing it (backspace erases). Not stty as etcdctl's
    /// speakeasy: .NET restores its own terminal settings, echo included, when a child process exits.</summary>
    private static string ReadHidden()
    {
        var sb = new System.Text.StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter || key.KeyChar is '\n' or '\r')
            {
                return sb.ToString();
            }
            if (key.Key == ConsoleKey.Backspace)
            {
                sb.Length = Math.Max(0, sb.Length - 1);
            }
            else if (key.KeyChar != '\0')
            {
                sb.Append(key.KeyChar);
            }
        }
    }
}
