namespace Ketch.Client;

/// <summary>How a <see cref="KetchClient"/> connects and retries.</summary>
public sealed class KetchClientOptions
{
    /// <summary>Client URLs of the members, e.g. <c>http://127.0.0.1:2379</c> or <c>127.0.0.1:2379</c>.</summary>
    public IReadOnlyList<string> Endpoints { get; init; } = ["127.0.0.1:2379"];

    /// <summary>Time allowed to open a TCP connection to one endpoint (etcd's <c>--dial-timeout</c>).</summary>
    public TimeSpan DialTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Deadline for each unary request including its retries; <c>null</c> for none (etcd's <c>--command-timeout</c>).</summary>
    public TimeSpan? RequestTimeout { get; init; }

    /// <summary>Send the <c>hasleader=true</c> metadata so that a member without a leader refuses the request
    /// instead of hanging (etcd's <c>WithRequireLeader</c>).</summary>
    public bool RequireLeader { get; init; } = true;

    /// <summary>How many times a request that is safe to retry is sent again after <c>Unavailable</c>.</summary>
    public int MaxRetries { get; init; } = 8;

    /// <summary>First back-off between retries; it doubles up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(25);

    /// <summary>Largest back-off between retries.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>User to authenticate as (etcd's <c>--user</c>): the client gets a token before its
    /// first request and again when the server rejects it; <c>null</c> sends no token.</summary>
    public string? Username { get; init; }

    /// <summary>Password of <see cref="Username"/>.</summary>
    public string? Password { get; init; }

    /// <summary>TLS settings for <c>https://</c> endpoints; when set, endpoints without a scheme use
    /// TLS too. <c>null</c>: <c>https://</c> endpoints are verified against the system's CAs.</summary>
    public KetchTlsOptions? Tls { get; init; }

    /// <summary>Clock used for keep-alive periods and back-off; tests may inject a fake one.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
