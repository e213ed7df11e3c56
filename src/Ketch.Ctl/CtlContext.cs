using Ketch.Client;
using Ketch.Ctl.Printers;

namespace Ketch.Ctl;

/// <summary>What a command runs with: the global options, the console, and clients built from them.</summary>
internal sealed class CtlContext
{
    public static readonly Flag[] GlobalFlags =
    [
        new("endpoints", Default: "127.0.0.1:2379", Usage: "the gRPC endpoints to connect to", Kind: FlagKind.StringSlice),
        new("dial-timeout", Default: "2s", Usage: "how long to wait for a connection", Kind: FlagKind.Duration),
        new("command-timeout", Default: "5s", Usage: "how long a short command may take, dialing aside", Kind: FlagKind.Duration),
        new("keepalive-time", Default: "2s", Usage: "the interval of the client's keepalive pings", Kind: FlagKind.Duration),
        new("keepalive-timeout", Default: "6s", Usage: "how long the client waits for a keepalive ping's answer", Kind: FlagKind.Duration),
        new("write-out", Short: "w", Default: "simple", Usage: "the output format: fields, json, protobuf, simple or table"),
        new("hex", IsBool: true, Default: "false", Usage: "print keys and values as hexadecimal strings"),
        new("debug", IsBool: true, Default: "false", Usage: "log the client's debug messages"),
        new("user", Usage: "username[:password] to authenticate as (the password is asked for when missing)"),
        new("password", Usage: "the password to authenticate with (then --user holds the user name only)"),
        new("cacert", Usage: "the CA bundle to verify TLS servers with"),
        new("cert", Usage: "the TLS certificate file that identifies the client"),
        new("key", Usage: "the TLS key file of the client's certificate"),
        new("insecure-transport", IsBool: true, Default: "true", Usage: "connect without TLS"),
        new("insecure-skip-tls-verify", IsBool: true, Default: "false", Usage: "skip verifying the server's certificate (for tests only)"),
        new("insecure-discovery", IsBool: true, Default: "true", Usage: "trust SRV records found without TLS"),
        new("discovery-srv", Short: "d", Usage: "the domain whose SRV records name the cluster's endpoints"),
        new("discovery-srv-name", Usage: "the service name of the SRV records to look up"),
        new("help", IsBool: true, Short: "h", Default: "false"),
    ];

    public required TextWriter Out { get; init; }

    public required TextWriter Err { get; init; }

    public required TextReader In { get; init; }

    /// <summary>Whether <see cref="In"/> is the console's terminal: passwords are then read from it with echo off.</summary>
    public bool InIsTerminal { get; init; }

    public required ParsedArgs Args { get; init; }

    /// <summary>The environment ketchctl was started with (e.g. <c>ETCDCTL_WATCH_KEY</c>).</summary>
    public IReadOnlyDictionary<string, string> Env { get; init; } = new Dictionary<string, string>();

    /// <summary>Canceled on Ctrl-C (or by a test).</summary>
    public CancellationToken Interrupt { get; init; }

    /// <summary>The clock of periodic output (<c>make-mirror</c>'s count every 30 s); tests run it faster.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

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

    public KetchClient Client(IReadOnlyList<string>? endpoints = null)
    {
        string? File(string flag) => Args.Get(flag) is { Length: > 0 } f ? f : null;
        return Client(endpoints ?? Endpoints, File("cacert"), File("cert"), File("key"), Args.Bool("insecure-transport"),
            Args.Bool("insecure-skip-tls-verify"), Credentials);
    }

    /// <summary>A client of another cluster (<c>make-mirror</c>'s destination): its own TLS files and transport
    /// choice, no server-certificate skipping and no user, as etcdctl builds it.</summary>
    public KetchClient Client(IReadOnlyList<string> endpoints, string? cacert, string? cert, string? key, bool insecureTransport) =>
        Client(endpoints, cacert, cert, key, insecureTransport, skipVerify: false, credentials: null);

    private KetchClient Client(IReadOnlyList<string> endpoints, string? cacert, string? cert, string? key, bool insecureTransport, bool skipVerify,
        (string User, string Password)? credentials)
    {
        var tls = Tls(cacert, cert, key, insecureTransport, skipVerify, out var secure);
        // etcdctl: "host:port" is dialed with TLS once --cacert, --cert, --key or
        // --insecure-transport=false ask for it; "http://" and "https://" endpoints say it themselves.
        var urls = endpoints.Select(e => e.Contains("://", StringComparison.Ordinal) ? e : (secure ? "https://" : "http://") + e).ToList();
        try
        {
            return new KetchClient(new KetchClientOptions
            {
                Endpoints = urls,
                Tls = tls,
                Username = credentials?.User,
                Password = credentials?.Password,
                DialTimeout = Args.Duration("dial-timeout"),
                RequireLeader = false,
                MaxRetries = 3,
            });
        }
        catch (ArgumentException e)
        {
            throw BadArgs(e.Message);
        }
    }

    /// <summary>The TLS settings of the global flags (<c>--cacert</c>, <c>--cert</c>, <c>--key</c>,
    /// <c>--insecure-skip-tls-verify</c>), null when they ask for none: for plain HTTPS requests
    /// to an endpoint (<c>check datascale</c>'s <c>/metrics</c>).</summary>
    public KetchTlsOptions? TlsOptions
    {
        get
        {
            string? File(string flag) => Args.Get(flag) is { Length: > 0 } f ? f : null;
            return Tls(File("cacert"), File("cert"), File("key"), Args.Bool("insecure-transport"), Args.Bool("insecure-skip-tls-verify"), out _);
        }
    }

    /// <summary>The TLS settings of a client; <paramref name="secure"/>: endpoints without a
    /// scheme use TLS (as etcdctl, <c>--insecure-skip-tls-verify</c> alone does not ask for it, but
    /// unlike etcdctl 3.4 it is honoured on <c>https://</c> endpoints).</summary>
    private static KetchTlsOptions? Tls(string? cacert, string? cert, string? key, bool insecureTransport, bool skipVerify, out bool secure)
    {
        secure = cacert is not null || cert is not null || key is not null || !insecureTransport;
        return secure || skipVerify
            ? new KetchTlsOptions { TrustedCaFile = cacert, CertFile = cert, KeyFile = key, InsecureSkipVerify = skipVerify }
            : null;
    }

    /// <summary>A token for one short request: the command timeout, or Ctrl-C.</summary>
    public CancellationTokenSource Timeout()
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(Interrupt);
        cts.CancelAfter(CommandTimeout);
        return cts;
    }

    public static CtlException BadArgs(string message) => new(ExitCode.BadArgs, message);
}
