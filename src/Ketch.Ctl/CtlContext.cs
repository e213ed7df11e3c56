using Ketch.Client;
using Ketch.Ctl.Printers;

namespace Ketch.Ctl;

/// <summary>What a command runs with: the global options, the console, and clients built from them.</summary>
internal sealed class CtlContext
{
    public static readonly Flag[] GlobalFlags =
    [
        new("endpoints", Default: "127.0.0.1:2379"),
        new("dial-timeout", Default: "2s"),
        new("command-timeout", Default: "5s"),
        new("keepalive-time", Default: "2s"),
        new("keepalive-timeout", Default: "6s"),
        new("write-out", Short: "w", Default: "simple"),
        new("hex", IsBool: true, Default: "false"),
        new("debug", IsBool: true, Default: "false"),
        new("user"), new("password"), new("cacert"), new("cert"), new("key"),
        new("insecure-transport", IsBool: true, Default: "true"),
        new("insecure-skip-tls-verify", IsBool: true, Default: "false"),
        new("insecure-discovery", IsBool: true, Default: "true"),
        new("discovery-srv", Short: "d"), new("discovery-srv-name"),
        new("help", IsBool: true, Short: "h", Default: "false"),
    ];

    public required TextWriter Out { get; init; }

    public required TextWriter Err { get; init; }

    public required TextReader In { get; init; }

    public required ParsedArgs Args { get; init; }

    /// <summary>The environment ketchctl was started with (e.g. <c>ETCDCTL_WATCH_KEY</c>).</summary>
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();

    /// <summary>Canceled on Ctrl-C (or by a test).</summary>
    public CancellationToken Interrupt { get; init; }

    public IReadOnlyList<string> Endpoints => Args.Get("endpoints").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>From <c>--user</c> / <c>--password</c>, asked for once (null: no user).</summary>
    private (string User, string Password)? Credentials
    {
        get
        {
            if (!_credentialsRead)
            {
                _credentials = CtlCredentials.From(this);
                _credentialsRead = true;
            }
            return _credentials;
        }
    }

    private (string User, string Password)? _credentials;
    private bool _credentialsRead;

    public TimeSpan CommandTimeout => Args.Duration("command-timeout");

    public string WriteOut => Args.Get("write-out");

    public Printer Printer(bool valueOnly = false, TextWriter? output = null) =>
        Printers.Printer.Create(WriteOut, Args.Bool("hex"), valueOnly, output ?? Out);

    public KetchClient Client(IReadOnlyList<string>? endpoints = null) => new(new KetchClientOptions
    {
        Endpoints = endpoints ?? Endpoints,
        Username = Credentials?.User,
        Password = Credentials?.Password,
        DialTimeout = Args.Duration("dial-timeout"),
        RequireLeader = false,
        MaxRetries = 3,
    });

    /// <summary>A token for one short request: the command timeout, or Ctrl-C.</summary>
    public CancellationTokenSource Timeout()
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(Interrupt);
        cts.CancelAfter(CommandTimeout);
        return cts;
    }

    public static CtlException BadArgs(string message) => new(ExitCode.BadArgs, message);
}
