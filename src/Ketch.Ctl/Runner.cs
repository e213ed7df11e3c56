using Grpc.Core;
using Ketch.Ctl.Commands;

namespace Ketch.Ctl;

/// <summary>Parses the command line as etcdctl does and runs the command; errors become <c>Error: ...</c> and an exit code.</summary>
internal static class Runner
{
    public static readonly Command[] Commands =
    [
        new GetCommand(), new PutCommand(), new DelCommand(), new TxnCommand(), new CompactionCommand(), new WatchCommand(),
        .. LeaseCommand.All, .. MemberCommand.All, .. EndpointCommand.All, .. AlarmCommand.All,
        .. AuthCommand.All, .. UserCommand.All, .. RoleCommand.All,
        new DefragCommand(), new MakeMirrorCommand(), new MigrateCommand(), .. SnapshotCommand.All, .. CheckCommand.All, new MoveLeaderCommand(), new LockCommand(), new ElectCommand(), new VersionCommand(),
        .. CompletionCommand.All, new HelpCommand(),
    ];

    /// <summary>The words that group commands (help lists them; alone they print their help).</summary>
    public static readonly CommandGroup[] Groups =
    [
        LeaseCommand.Group, MemberCommand.Group, EndpointCommand.Group, AlarmCommand.Group, AuthCommand.Group, UserCommand.Group,
        RoleCommand.Group, SnapshotCommand.Group, CheckCommand.Group, CompletionCommand.Group,
    ];

    // stdinIsTerminal: stdin is the console's terminal, so passwords are read from it with echo off.
    // clock: the clock of periodic output (null: the system's); tests pass a faster one.
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, TextReader stdin,
        IReadOnlyDictionary<string, string> env, CancellationToken interrupt, bool stdinIsTerminal = false, TimeProvider? clock = null)
    {
        try
        {
            (Command? Command, CommandGroup? Group) found;
            try
            {
                found = Find(args);
            }
            catch (CtlException ex)
            {
                // cobra reports it with a hint; etcdctl then reports it again.
                await stderr.WriteAsync($"Error: {ex.Message}\nRun '{Help.Binary} --help' for usage.\n").ConfigureAwait(false);
                throw;
            }
            var (command, group) = found;
            if (command is null)
            {
                // The root or a group: no command to run, only help to print (exit 0), once the flags parse.
                var page = group is null ? Help.Root() : Help.ForGroup(group);
                await ParseAsync(args, CtlContext.GlobalFlags.Concat(group?.Persistent ?? []), page, stdout, stderr).ConfigureAwait(false);
                await stdout.WriteAsync(page).ConfigureAwait(false);
                return ExitCode.Success;
            }
            var parsed = await ParseAsync(args, CtlContext.GlobalFlags.Concat(command.Flags), null, stdout, stderr, command).ConfigureAwait(false);
            if (parsed.Bool("help"))
            {
                await stdout.WriteAsync(Help.For(command)).ConfigureAwait(false);
                return ExitCode.Success;
            }
            parsed.FromEnvironment(env, CtlContext.GlobalFlags);
            // Drop the command's own words from the positional arguments.
            parsed.Positional.RemoveRange(0, command.Name.Split(' ').Length);
            var ctx = new CtlContext
            {
                Out = stdout, Err = stderr, In = stdin, InIsTerminal = stdinIsTerminal, Args = parsed, Interrupt = interrupt, Env = env,
                Clock = clock ?? TimeProvider.System,
            };
            return await command.RunAsync(ctx, parsed).ConfigureAwait(false);
        }
        catch (CtlException ex)
        {
            await stderr.WriteAsync($"Error: {ex.Message}\n").ConfigureAwait(false);
            return ex.ExitCode;
        }
        catch (RpcException ex) when (ex.Status.Detail == "etcdserver: authentication failed, invalid user ID or password")
        {
            // etcdctl fails to build its client: a connection error's exit code.
            await stderr.WriteAsync($"Error: {ex.Status.Detail}\n").ConfigureAwait(false);
            return ExitCode.BadConnection;
        }
        catch (RpcException ex)
        {
            await stderr.WriteAsync($"Error: {Describe(ex)}\n").ConfigureAwait(false);
            return ExitCode.Error;
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            return ExitCode.Interrupted;
        }
        catch (OperationCanceledException)
        {
            await stderr.WriteAsync("Error: context deadline exceeded\n").ConfigureAwait(false);
            return ExitCode.Error;
        }
        finally
        {
            await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>The error text etcdctl shows: the server's message, or Go's context errors.</summary>
    public static string Describe(RpcException ex) => ex.StatusCode switch
    {
        StatusCode.DeadlineExceeded => "context deadline exceeded",
        StatusCode.Cancelled => "context canceled",
        // grpc-go keeps retrying a connection it cannot set up (refused, a TLS handshake that
        // fails, a client certificate the member refuses) until the deadline passes. Grpc.Net
        // reports a failed TLS handshake as Internal.
        StatusCode.Unavailable or StatusCode.Internal when Ketch.Client.Connection.NeverSent(ex) => "context deadline exceeded",
        // clientv3 turns the server's own errors (all "etcdserver: ...") into their text; any other status keeps
        // grpc-go's form, e.g. hashkv's "rpc error: code = Unknown desc = auth: user name is empty".
        _ when ex.Status.Detail.StartsWith("etcdserver: ", StringComparison.Ordinal) => ex.Status.Detail,
        _ => $"rpc error: code = {GoCodeName(ex.StatusCode)} desc = {ex.Status.Detail}",
    };

    /// <summary>grpc-go's name of a status code (<c>codes.Code.String()</c>): ours but for one spelling.</summary>
    private static string GoCodeName(StatusCode code) => code == StatusCode.Cancelled ? "Canceled" : code.ToString();

    /// <summary>Parses the command line; a bad flag prints the help page first and the error twice, as cobra's
    /// error path and then etcdctl's do (cobra's usage goes to stdout, its empty usage string to stderr).</summary>
    private static async Task<ParsedArgs> ParseAsync(string[] args, IEnumerable<Flag> flags, string? page, TextWriter stdout, TextWriter stderr,
        Command? command = null)
    {
        try
        {
            return ParsedArgs.Parse(args, [.. flags]);
        }
        catch (CtlException ex)
        {
            await stdout.WriteAsync(page ?? Help.For(command!)).ConfigureAwait(false);
            await stderr.WriteAsync($"Error: {ex.Message}\n\n").ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Finds the command from the first positional words, skipping global flags and their values: null and
    /// null without words (the root's help), null and a group for a group word that is not followed by one of its
    /// commands (the group's help).</summary>
    private static (Command? Command, CommandGroup? Group) Find(string[] args)
    {
        var words = new List<string>();
        for (var i = 0; i < args.Length && words.Count < 2; i++)
        {
            var a = args[i];
            if (a == "--")
            {
                words.AddRange(args.Skip(i + 1).Take(2 - words.Count));
                break;
            }
            if (a.Length > 1 && a[0] == '-')
            {
                var name = a.TrimStart('-');
                if (name.Contains('=', StringComparison.Ordinal))
                {
                    continue;
                }
                var g = CtlContext.GlobalFlags.FirstOrDefault(f => f.Name == name || (a.Length == 2 && f.Short == name));
                if (g is { IsBool: false })
                {
                    i++;
                }
                continue;
            }
            words.Add(a);
        }
        if (words.Count == 0)
        {
            return (null, null);
        }
        var two = words.Count > 1 ? words[0] + " " + words[1] : null;
        var cmd = Commands.FirstOrDefault(c => c.Name == two) ?? Commands.FirstOrDefault(c => c.Name == words[0]);
        if (cmd is not null)
        {
            return (cmd, null);
        }
        var group = Groups.FirstOrDefault(g => g.Name == words[0]);
        return group is not null
            ? (null, group)
            : throw new CtlException(ExitCode.Error, $"unknown command \"{words[0]}\" for \"{Help.Binary}\"");
    }
}
