namespace Ketch.Bench;

/// <summary>Read consistency of a Range: linearizable (through the leader's ReadIndex) or serializable (local).</summary>
internal enum Consistency
{
    Linearizable,
    Serializable,
}

/// <summary>Everything one ketch-bench run needs; built by <see cref="ArgParser"/>.</summary>
internal sealed class BenchOptions
{
    public required string Workload { get; init; }

    public IReadOnlyList<Uri> Endpoints { get; init; } = [];

    public int Conns { get; init; } = 1;

    public int Clients { get; init; } = 1;

    /// <summary>Operations to run in all; null when the run is bounded by <see cref="Duration"/>.</summary>
    public long? Total { get; init; }

    public TimeSpan? Duration { get; init; }

    /// <summary>Operations per second over all clients; 0 means as fast as possible.</summary>
    public double RateOpsPerSecond { get; init; }

    /// <summary>How long request/response workloads run unmeasured before the measured run.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.Zero;

    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public bool Json { get; init; }

    public bool Tsv { get; init; }

    public bool Progress { get; init; } = true;

    public int KeySizeBytes { get; init; } = 8;

    public int ValueSizeBytes { get; init; } = 8;

    public long KeySpace { get; init; } = 1;

    public bool SequentialKeys { get; init; }

    public string Key { get; init; } = "foo";

    public bool Prefix { get; init; }

    public Consistency Consistency { get; init; } = Consistency.Linearizable;

    public int TxnOps { get; init; } = 1;

    /// <summary>Fraction of txn-mixed operations that are reads.</summary>
    public double ReadRatio { get; init; } = 0.8;

    public int Watchers { get; init; } = 100;

    public int Streams { get; init; } = 10;

    public long LeaseTtlSeconds { get; init; } = 60;

    public string ProbePath { get; init; } = ".";

    public int ProbeBlockBytes { get; init; } = 128;

    public int Seed { get; init; } = 1;

    /// <summary>Server processes on this machine whose CPU time the report includes (<see cref="CpuSampler"/>).</summary>
    public IReadOnlyList<int> CpuPids { get; init; } = [];

    /// <summary>TLS towards the members (<c>--cacert</c>, <c>--cert</c>, <c>--key</c>,
    /// <c>--insecure-skip-tls-verify</c>); null: none given. Used on https endpoints.</summary>
    public Ketch.Client.KetchTlsOptions? Tls { get; init; }

    /// <summary>The stop condition the run uses: a count, a duration, or both (whichever comes first).</summary>
    public bool Bounded => Total is not null || Duration is not null;
}
