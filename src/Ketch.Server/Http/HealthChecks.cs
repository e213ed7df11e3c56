using System.Text;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using Ketch.Server.Api;
using Microsoft.AspNetCore.Http;

namespace Ketch.Server.Http;

/// <summary>
/// etcd's health endpoints: <c>/health</c> (<see cref="HealthAsync"/>), and <c>/livez</c> and
/// <c>/readyz</c> (etcd 3.5.11+, KEP-4331), which kubeadm's etcd static
/// pod probes use on the metrics URL: named checks, each reported as <c>[+]name ok</c> or
/// <c>[-]name failed: reason</c>.
/// <list type="bullet">
/// <item><c>/livez</c>: <c>serializable_read</c> (the member's own store answers a read). A member
/// cut off from its quorum is alive: restarting it would not help.</item>
/// <item><c>/readyz</c>: <c>data_corruption</c> (no CORRUPT alarm), <c>serializable_read</c>,
/// <c>linearizable_read</c> (a read through the leader completes) and <c>non_learner</c>.</item>
/// </list>
/// 200 and <c>ok</c> when every check passes (the check lines first with <c>?verbose</c>); 503 with
/// every line and <c>{path} check failed</c> otherwise. <c>?exclude=name</c> (repeatable) skips a check.
/// </summary>
internal static class HealthChecks
{
    private delegate Task<string?> Check(MemberContext member, CancellationToken ct);

    private static readonly (string Name, Check Run)[] s_livez = [("serializable_read", SerializableRead)];

    private static readonly (string Name, Check Run)[] s_readyz =
    [
        ("data_corruption", DataCorruption),
        ("serializable_read", SerializableRead),
        ("linearizable_read", LinearizableRead),
        ("non_learner", NonLearner),
    ];

    /// <summary>
    /// etcd's /health: false with a reason on an alarm, without a leader, or when a linearizable
    /// read fails. As etcd 3.5: <c>?exclude=NOSPACE</c> (repeatable) ignores those alarms, and
    /// <c>?serializable=true</c> asks about this member alone (no leader needed, a local read), which
    /// kubeadm's liveness and startup probes use so that a member is not restarted for the loss of
    /// its quorum. Only the first alarm not excluded is named, as etcd.
    /// </summary>
    public static async Task<IResult> HealthAsync(MemberContext member, HttpContext http)
    {
        var excluded = http.Request.Query["exclude"].Where(a => !string.IsNullOrEmpty(a)).ToHashSet(StringComparer.Ordinal);
        var serializable = string.Equals(http.Request.Query["serializable"].ToString(), "true", StringComparison.Ordinal);
        string? reason = null;
        var alarm = member.Loop.Membership.Alarms.Select(a => a.Alarm.ToString().ToUpperInvariant()).FirstOrDefault(a => !excluded.Contains(a));
        if (alarm is not null)
        {
            reason = "ALARM " + alarm;
        }
        else if (!serializable && member.Loop.Leader == 0)
        {
            reason = "RAFT NO LEADER";
        }
        else if (!serializable)
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
            cts.CancelAfter(TimeSpan.FromSeconds(1));
            try
            {
                await member.Loop.WaitLinearizableAsync(cts.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is RpcException or OperationCanceledException)
            {
                reason = "QGET ERROR";
            }
        }
        member.Metrics.HealthChecked(reason is null);
        var body = $"{{\"health\":\"{(reason is null ? "true" : "false")}\",\"reason\":\"{reason}\"}}";
        return Results.Text(body, "application/json", Encoding.UTF8, reason is null ? 200 : 503);
    }

    public static Task LivezAsync(MemberContext member, HttpContext http) => RunAsync(member, http, "livez", s_livez);

    public static Task ReadyzAsync(MemberContext member, HttpContext http) => RunAsync(member, http, "readyz", s_readyz);

    private static async Task RunAsync(MemberContext member, HttpContext http, string path, (string Name, Check Run)[] checks)
    {
        var excluded = http.Request.Query["exclude"].Where(x => !string.IsNullOrEmpty(x)).ToHashSet(StringComparer.Ordinal);
        var lines = new StringBuilder();
        var failed = false;
        foreach (var (name, run) in checks)
        {
            if (excluded.Contains(name))
            {
                lines.Append("[+]").Append(name).Append(" excluded: ok\n");
                continue;
            }
            var error = await run(member, http.RequestAborted).ConfigureAwait(false);
            failed |= error is not null;
            lines.Append(error is null ? $"[+]{name} ok\n" : $"[-]{name} failed: {error}\n");
        }
        http.Response.ContentType = "text/plain; charset=utf-8";
        http.Response.Headers.XContentTypeOptions = "nosniff";
        if (failed)
        {
            http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            await http.Response.WriteAsync($"{lines}{path} check failed\n").ConfigureAwait(false);
            return;
        }
        await http.Response.WriteAsync(http.Request.Query.ContainsKey("verbose") ? $"{lines}ok\n" : "ok\n").ConfigureAwait(false);
    }

    private static Task<string?> DataCorruption(MemberContext member, CancellationToken ct) =>
        Task.FromResult(member.Loop.Membership.HasAlarm(AlarmType.Corrupt) ? "alarm activated: CORRUPT" : null);

    private static Task<string?> NonLearner(MemberContext member, CancellationToken ct) =>
        Task.FromResult(member.Loop.Membership.Get(member.Loop.MemberId) is { IsLearner: true } ? "this member is a learner" : null);

    private static Task<string?> SerializableRead(MemberContext member, CancellationToken ct)
    {
        try
        {
            _ = member.Loop.Kv.Range(new Ketch.Mvcc.RangeRequest { Key = [0], Limit = 1, KeysOnly = true });
            return Task.FromResult<string?>(null);
        }
        catch (Exception e) when (e is Ketch.Mvcc.MvccException or ObjectDisposedException or InvalidOperationException)
        {
            return Task.FromResult<string?>(e.Message);
        }
    }

    private static async Task<string?> LinearizableRead(MemberContext member, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(member.Options.EffectiveRequestTimeout);
        try
        {
            await member.Loop.WaitLinearizableAsync(deadline.Token).ConfigureAwait(false);
            return null;
        }
        catch (RpcException e)
        {
            return e.Status.Detail;
        }
        catch (OperationCanceledException)
        {
            return EtcdErrors.Timeout.Status.Detail;
        }
    }
}
