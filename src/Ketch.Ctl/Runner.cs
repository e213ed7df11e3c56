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
        new DefragCommand(), .. SnapshotCommand.All, .. CheckCommand.All, new MoveLeaderCommand(), new LockCommand(), new ElectCommand(), new VersionCommand(),
        .. CompletionCommand.All,
    ];

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, TextReader stdin,
        IReadOnlyDictionary<string, string> env, CancellationToken interrupt)
    {
        try
        {
            var command = Find(args);
            var flags = CtlContext.GlobalFlags.Concat(command.Flags).ToList();
            var parsed = ParsedArgs.Parse(args, flags);
            parsed.FromEnvironment(env, CtlContext.GlobalFlags);
            // Drop the command's own words from the positional arguments.
            parsed.Positional.RemoveRange(0, command.Name.Split(' ').Length);
            var ctx = new CtlContext { Out = stdout, Err = stderr, In = stdin, Args = parsed, Interrupt = interrupt, Env = env };
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
        // grpc-go keeps retrying a refused connection until the deadline passes.
        StatusCode.Unavailable when Ketch.Client.Connection.NeverSent(ex) => "context deadline exceeded",
        _ => ex.Status.Detail,
    };

    /// <summary>Finds the command from the first positional words, skipping global flags and their values.</summary>
    private static Command Find(string[] args)
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
            throw new CtlException(ExitCode.BadArgs, "a command is required; run 'ketchctl --help'");
        }
        var two = words.Count > 1 ? words[0] + " " + words[1] : null;
        var cmd = Commands.FirstOrDefault(c => c.Name == two) ?? Commands.FirstOrDefault(c => c.Name == words[0]);
        if (cmd is null)
        {
            if (Commands.Any(c => c.Name.StartsWith(words[0] + " ", StringComparison.Ordinal)))
            {
                throw new CtlException(ExitCode.Error, $"unknown command \"{(words.Count > 1 ? words[1] : "")}\" for \"etcdctl {words[0]}\"");
            }
            throw new CtlException(ExitCode.Error, $"unknown command \"{words[0]}\" for \"etcdctl\"");
        }
        return cmd;
    }
}
