using System.Globalization;

namespace Ketch.Bench;

/// <summary>
/// Parses <c>ketch-bench &lt;workload&gt; [--option value | --option=value | --flag]...</c>.
/// Expected mistakes (unknown workload or option, a bad value) come back as an error text,
/// never as an exception.
/// </summary>
internal static class ArgParser
{
    public static readonly string[] Workloads =
        ["put", "range", "txn-put", "txn-mixed", "watch", "watch-latency", "lease-keepalive", "fsync-probe"];

    private static readonly HashSet<string> s_flags =
        ["--json", "--tsv", "--sequential-keys", "--prefix", "--no-progress", "--insecure-skip-tls-verify"];

    private static readonly HashSet<string> s_valued =
    [
        "--endpoints", "--conns", "--clients", "--total", "--duration", "--rate", "--timeout", "--warmup",
        "--key-size", "--val-size", "--key-space", "--key", "--consistency", "--txn-ops",
        "--read-ratio", "--watchers", "--streams", "--lease-ttl", "--path", "--block-size", "--seed", "--cpu-pids",
        "--cacert", "--cert", "--key",
    ];

    public const string Usage = """
        usage: ketch-bench <workload> [options]

        workloads:
          put              Put requests (--key-size, --val-size, --key-space, --sequential-keys, --rate)
          range            Range of --key (default foo; --prefix for a prefix range), --consistency l|s
          txn-put          Txn of --txn-ops puts
          txn-mixed        Range or Put by --read-ratio (0.8 = 80 % reads) over --key-space
          watch            --watchers over --streams on --key-space keys; --total puts; event latency
          watch-latency    --watchers on one key; --total puts at --rate (default 100/s); event latency
          lease-keepalive  --clients leases, each renewed over a keep-alive stream; keep-alive latency
          fsync-probe      append --block-size bytes + fdatasync in a loop in --path (the disk's limit)

        common options:
          --endpoints a,b  client URLs (http://127.0.0.1:23790, https://...); connection i uses endpoint i mod n;
                           host:port is TLS when a TLS option is given, as with etcd's benchmark
          --conns N        gRPC connections (one GrpcChannel each)       default 1
          --clients N      concurrent clients, spread over the conns     default 1
          --total N        operations in all                             default 10000 if no --duration
          --duration T     run for T (500ms, 10s, 2m); with --total, whichever ends first
          --rate R         operations per second over all clients (0 = unlimited)
          --timeout T      deadline of each call                         default 10s
          --warmup T       run unmeasured for T first (put, range, txn-put, txn-mixed)   default 0
          --json           one JSON object on stdout instead of text
          --tsv            one tab-separated line on stdout (for scripts; fields in Report.TsvHeader)
          --no-progress    no progress line on stderr
          --seed N         seed of random keys                           default 1
          --cpu-pids a,b   local server PIDs: report their CPU time per operation (from /proc)

        TLS (etcd's benchmark flags):
          --cacert F       verify the members' certificates against this CA bundle
          --cert F         client certificate to show (members with --client-cert-auth)
          --key F          its private key
          --insecure-skip-tls-verify   accept any member certificate (e.g. --auto-tls members)
        """;

    public static bool TryParse(IReadOnlyList<string> args, out BenchOptions? options, out string? error)
    {
        options = null;
        if (args.Count == 0)
        {
            error = "missing workload; one of: " + string.Join(", ", Workloads);
            return false;
        }
        var workload = args[0];
        if (Array.IndexOf(Workloads, workload) < 0)
        {
            error = $"unknown workload '{workload}'; one of: " + string.Join(", ", Workloads);
            return false;
        }
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i < args.Count; i++)
        {
            var arg = args[i];
            string name;
            string? value = null;
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                name = arg[..eq];
                value = arg[(eq + 1)..];
            }
            else
            {
                name = arg;
            }
            if (s_flags.Contains(name))
            {
                if (value is not null)
                {
                    error = $"option {name} takes no value";
                    return false;
                }
                values[name] = "true";
                continue;
            }
            if (!s_valued.Contains(name))
            {
                error = name.StartsWith("--", StringComparison.Ordinal)
                    ? $"unknown option {name}"
                    : $"unexpected argument '{name}'";
                return false;
            }
            if (value is null)
            {
                if (i + 1 >= args.Count)
                {
                    error = $"option {name} needs a value";
                    return false;
                }
                value = args[++i];
            }
            values[name] = value;
        }
        return Build(workload, values, out options, out error);
    }

    /// <summary>The TLS options, null when none is given.</summary>
    private static Ketch.Client.KetchTlsOptions? Tls(Dictionary<string, string> v)
    {
        string? File(string name) => v.GetValueOrDefault(name) is { Length: > 0 } f ? f : null;
        var (cacert, cert, key, skip) = (File("--cacert"), File("--cert"), File("--key"), v.ContainsKey("--insecure-skip-tls-verify"));
        return cacert is null && cert is null && key is null && !skip
            ? null
            : new Ketch.Client.KetchTlsOptions { TrustedCaFile = cacert, CertFile = cert, KeyFile = key, InsecureSkipVerify = skip };
    }

    private static bool Build(string workload, Dictionary<string, string> v, out BenchOptions? options, out string? error)
    {
        options = null;
        var p = new ValueReader(v);
        var endpoints = new List<Uri>();
        var tls = Tls(v);
        if (v.TryGetValue("--endpoints", out var eps))
        {
            foreach (var e in eps.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                // As clientv3: a bare host:port is dialed with TLS when TLS settings are given.
                var text = e.Contains("://", StringComparison.Ordinal) ? e : (tls is null ? "http://" : "https://") + e;
                if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.IsDefaultPort)
                {
                    error = $"bad endpoint '{e}': want http://host:port, https://host:port or host:port";
                    return false;
                }
                endpoints.Add(uri);
            }
        }
        if (workload != "fsync-probe" && endpoints.Count == 0)
        {
            error = "--endpoints is required (e.g. --endpoints 127.0.0.1:23790)";
            return false;
        }
        var cpuPids = new List<int>();
        foreach (var text in v.GetValueOrDefault("--cpu-pids", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0)
            {
                error = $"--cpu-pids wants process ids like 123,456, not '{text}'";
                return false;
            }
            cpuPids.Add(pid);
        }
        var conns = p.Int("--conns", 1, 1, 100_000);
        var clients = p.Int("--clients", 1, 1, 1_000_000);
        var streams = p.Int("--streams", 10, 1, 100_000);
        long? total = v.ContainsKey("--total") ? p.Long("--total", 0, 1, long.MaxValue) : null;
        TimeSpan? duration = v.ContainsKey("--duration") ? p.Duration("--duration", TimeSpan.Zero) : null;
        if (total is null && duration is null)
        {
            total = 10_000;
        }
        var consistencyText = v.GetValueOrDefault("--consistency", "l");
        Consistency consistency;
        switch (consistencyText)
        {
            case "l" or "linearizable":
                consistency = Consistency.Linearizable;
                break;
            case "s" or "serializable":
                consistency = Consistency.Serializable;
                break;
            default:
                error = $"--consistency must be l or s, not '{consistencyText}'";
                return false;
        }
        var built = new BenchOptions
        {
            Workload = workload,
            Endpoints = endpoints,
            Conns = conns,
            Clients = clients,
            Total = total,
            Duration = duration,
            RateOpsPerSecond = p.Double("--rate", workload == "watch-latency" ? 100 : 0, 0, 1e9),
            CallTimeout = p.Duration("--timeout", TimeSpan.FromSeconds(10)),
            Warmup = p.Duration("--warmup", TimeSpan.Zero),
            Json = v.ContainsKey("--json"),
            Tsv = v.ContainsKey("--tsv"),
            Progress = !v.ContainsKey("--no-progress"),
            KeySizeBytes = p.Int("--key-size", 8, 1, 1 << 20),
            ValueSizeBytes = p.Int("--val-size", 8, 0, 16 << 20),
            KeySpace = p.Long("--key-space", 1, 1, long.MaxValue),
            SequentialKeys = v.ContainsKey("--sequential-keys"),
            Key = v.GetValueOrDefault("--key", "foo"),
            Prefix = v.ContainsKey("--prefix"),
            Consistency = consistency,
            TxnOps = p.Int("--txn-ops", 1, 1, 10_000),
            ReadRatio = p.Double("--read-ratio", 0.8, 0, 1),
            Watchers = p.Int("--watchers", 100, 1, 10_000_000),
            Streams = streams,
            LeaseTtlSeconds = p.Long("--lease-ttl", 60, 1, 1L << 40),
            ProbePath = v.GetValueOrDefault("--path", "."),
            ProbeBlockBytes = p.Int("--block-size", 128, 1, 64 << 20),
            Seed = p.Int("--seed", 1, int.MinValue, int.MaxValue),
            CpuPids = cpuPids,
            Tls = tls,
        };
        if (p.Error is not null)
        {
            error = p.Error;
            return false;
        }
        if (built.Duration is { } d && d <= TimeSpan.Zero)
        {
            error = "--duration must be positive";
            return false;
        }
        if (built.CallTimeout <= TimeSpan.Zero)
        {
            error = "--timeout must be positive";
            return false;
        }
        if (built.KeySizeBytes < 19 && built.KeySpace > (long)Math.Pow(10, built.KeySizeBytes))
        {
            error = $"--key-space {built.KeySpace} does not fit in --key-size {built.KeySizeBytes} decimal digits";
            return false;
        }
        if (workload == "txn-put" && built.TxnOps > built.KeySpace)
        {
            error = $"--txn-ops ({built.TxnOps}) needs a --key-space at least as large (keys in one txn must differ)";
            return false;
        }
        if (built.Json && built.Tsv)
        {
            error = "--json and --tsv exclude each other";
            return false;
        }
        var users = workload is "watch" or "watch-latency" ? Math.Max(clients, streams) : clients;
        if (conns > users)
        {
            error = $"--conns ({conns}) must not exceed the {(users == clients ? "--clients" : "--streams")} ({users}) that use them";
            return false;
        }
        if (workload is "watch" or "watch-latency" && streams > built.Watchers)
        {
            error = $"--streams ({streams}) must not exceed --watchers ({built.Watchers})";
            return false;
        }
        options = built;
        error = null;
        return true;
    }

    /// <summary>Reads typed values, keeping the first error.</summary>
    private sealed class ValueReader(Dictionary<string, string> values)
    {
        public string? Error { get; private set; }

        public int Int(string name, int fallback, int min, int max) => (int)Long(name, fallback, min, max);

        public long Long(string name, long fallback, long min, long max)
        {
            if (!values.TryGetValue(name, out var text))
            {
                return fallback;
            }
            if (!long.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                Fail($"{name} wants an integer, not '{text}'");
                return fallback;
            }
            if (value < min || value > max)
            {
                Fail($"{name} must be between {min} and {max}, not {value}");
                return fallback;
            }
            return value;
        }

        public double Double(string name, double fallback, double min, double max)
        {
            if (!values.TryGetValue(name, out var text))
            {
                return fallback;
            }
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || double.IsNaN(value))
            {
                Fail($"{name} wants a number, not '{text}'");
                return fallback;
            }
            if (value < min || value > max)
            {
                Fail($"{name} must be between {min} and {max}, not {value}");
                return fallback;
            }
            return value;
        }

        public TimeSpan Duration(string name, TimeSpan fallback)
        {
            if (!values.TryGetValue(name, out var text))
            {
                return fallback;
            }
            if (!TryParseDuration(text, out var value))
            {
                Fail($"{name} wants a duration like 500ms, 10s or 2m, not '{text}'");
                return fallback;
            }
            return value;
        }

        private void Fail(string message) => Error ??= message;
    }

    /// <summary>"500ms", "10s", "1.5s", "2m", "1h"; a bare number is seconds.</summary>
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        var (number, scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 1e-3),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ when text.EndsWith('h') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || double.IsNaN(n) || n < 0 || n > 1e7)
        {
            return false;
        }
        value = TimeSpan.FromSeconds(n * scale);
        return true;
    }
}
