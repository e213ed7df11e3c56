using System.Runtime.CompilerServices;
using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using WatchService = Ketch.Api.Etcdserverpb.Watch;

namespace Ketch.Client;

/// <summary>One watch as an asynchronous sequence of responses.
/// <para>Guarantees: events arrive in revision order, none twice and none missing, across reconnects:
/// after an error, a lost member or one that lost its leader (with <see cref="KetchClientOptions.RequireLeader"/>)
/// the watch is re-created on the next endpoint from the last delivered
/// revision + 1 (after a created or progress response: its header revision + 1), and events below that
/// revision are dropped. The created response is delivered once. Retries go on with back-off until the
/// enumeration is canceled.</para>
/// <para>A compacted start revision ends the sequence with <see cref="WatchCompactedException"/>; with
/// <see cref="WatchOptions.EndWithoutLeader"/>, a member without a leader ends it with <see cref="WatchCanceledException"/>.</para></summary>
public sealed class WatchStream : IAsyncEnumerable<WatchResponse>
{
    private readonly Connection _conn;
    private readonly ByteString _key;
    private readonly WatchOptions _options;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private AsyncDuplexStreamingCall<WatchRequest, WatchResponse>? _call;
    private long _nextRevision;

    internal WatchStream(Connection conn, ByteString key, WatchOptions options)
    {
        _conn = conn;
        _key = key;
        _options = options;
        _nextRevision = options.StartRevision;
    }

    /// <summary>The revision a resumed watch would start from (0 before the watch is created).</summary>
    public long NextRevision => Interlocked.Read(ref _nextRevision);

    /// <summary>How many times the watch was re-created after a failure.</summary>
    public int Reconnects { get; private set; }

    /// <summary>Asks the server for a progress notification: a response without events whose header revision
    /// tells that every event up to it has been delivered.</summary>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the request is written.</returns>
    public async Task RequestProgressAsync(CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var call = _call ?? throw new InvalidOperationException("the watch is not running");
            await call.RequestStream.WriteAsync(new WatchRequest { ProgressRequest = new WatchProgressRequest() }, cancellationToken)
                .ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc/>
    public async IAsyncEnumerator<WatchResponse> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        var createdDelivered = false;
        for (var attempt = 0; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var index = _conn.CurrentIndex;
            await _conn.Auth.EnsureAsync(cancellationToken).ConfigureAwait(false);
            var call = new WatchService.WatchClient(_conn.Invoker(index)).Watch(_conn.CallOptions(cancellationToken, null, _options.EndWithoutLeader));
            try
            {
                var started = await StartAsync(call, cancellationToken).ConfigureAwait(false);
                while (started)
                {
                    var r = await ReadAsync(call, cancellationToken).ConfigureAwait(false);
                    if (r is null)
                    {
                        break;
                    }
                    attempt = 0;
                    if (Filter(r, ref createdDelivered) is { } deliver)
                    {
                        yield return deliver;
                    }
                }
            }
            finally
            {
                await _writeLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                _call = null;
                _writeLock.Release();
                call.Dispose();
            }
            cancellationToken.ThrowIfCancellationRequested();
            _conn.MarkFailed(index);
            Reconnects++;
            await Task.Delay(_conn.Backoff(attempt), _conn.Options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Decides what the caller sees of a response and advances the resume revision.</summary>
    private WatchResponse? Filter(WatchResponse r, ref bool createdDelivered)
    {
        if (r.CompactRevision != 0)
        {
            throw new WatchCompactedException(r.CompactRevision, NextRevision);
        }
        if (r.Canceled)
        {
            throw new WatchCanceledException(string.IsNullOrEmpty(r.CancelReason) ? "watch canceled by the server" : r.CancelReason);
        }
        var next = NextRevision;
        if (r.Created)
        {
            if (next == 0)
            {
                // Events of a watch from "now" start after the revision current at creation.
                Interlocked.Exchange(ref _nextRevision, r.Header.Revision + 1);
            }
            if (createdDelivered)
            {
                return null;
            }
            createdDelivered = true;
            return r;
        }
        if (r.Events.Count == 0)
        {
            // A progress notification: everything up to the header revision has been delivered.
            if (r.Header is not null && r.Header.Revision + 1 > next)
            {
                Interlocked.Exchange(ref _nextRevision, r.Header.Revision + 1);
            }
            return r;
        }
        if (r.Events[0].Kv.ModRevision < next)
        {
            // Already delivered before a reconnect.
            var fresh = r.Events.Where(e => e.Kv.ModRevision >= next).ToList();
            if (fresh.Count == 0)
            {
                return null;
            }
            r = r.Clone();
            r.Events.Clear();
            r.Events.AddRange(fresh);
        }
        Interlocked.Exchange(ref _nextRevision, r.Events[^1].Kv.ModRevision + 1);
        return r;
    }

    /// <summary>Ends the watch with <see cref="WatchCanceledException"/> when <paramref name="ex"/> is the member's
    /// "no leader" and the watch asked to end on it; otherwise returns, and the watch moves to another endpoint.</summary>
    private void ThrowIfFinal(RpcException ex)
    {
        // etcd's rpctypes.ErrGRPCNoLeader, which clientv3 turns into a closed watch channel when
        // the watch required a leader.
        if (_options.EndWithoutLeader && ex.StatusCode == StatusCode.Unavailable && ex.Status.Detail == "etcdserver: no leader")
        {
            throw new WatchCanceledException(ex.Status.Detail, ex);
        }
    }

    private async Task<bool> StartAsync(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call, CancellationToken cancellationToken)
    {
        var create = new WatchCreateRequest
        {
            Key = KeyRange.Start(_key, _options.Prefix, _options.FromKey),
            RangeEnd = KeyRange.End(_key, _options.RangeEnd, _options.Prefix, _options.FromKey),
            StartRevision = NextRevision,
            ProgressNotify = _options.ProgressNotify,
            PrevKv = _options.PrevKv,
            Fragment = _options.Fragment,
        };
        if (_options.NoPut)
        {
            create.Filters.Add(WatchCreateRequest.Types.FilterType.Noput);
        }
        if (_options.NoDelete)
        {
            create.Filters.Add(WatchCreateRequest.Types.FilterType.Nodelete);
        }
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await call.RequestStream.WriteAsync(new WatchRequest { CreateRequest = create }, cancellationToken).ConfigureAwait(false);
            _call = call;
            return true;
        }
        catch (RpcException ex) when (IsTransient(ex, cancellationToken))
        {
            ThrowIfFinal(ex);
            return false;
        }
        catch (InvalidOperationException) when (!cancellationToken.IsCancellationRequested)
        {
            // The call already completed (the server went away).
            return false;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>The next response, or null when the stream broke in a way worth retrying.</summary>
    private async Task<WatchResponse?> ReadAsync(AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false)
                ? call.ResponseStream.Current
                : null;
        }
        catch (RpcException ex) when (IsTransient(ex, cancellationToken))
        {
            ThrowIfFinal(ex);
            return null;
        }
    }

    private static bool IsTransient(RpcException ex, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested
        && ex.StatusCode is StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown or StatusCode.Aborted;
}

/// <summary>The Watch service.</summary>
public sealed class WatchClient
{
    private readonly Connection _conn;

    internal WatchClient(Connection conn) => _conn = conn;

    /// <summary>Watches a key or a range. Enumerate the result; cancel the enumeration to stop watching.</summary>
    /// <param name="key">The key (UTF-8).</param>
    /// <param name="options">Watch options.</param>
    /// <returns>The watch.</returns>
    public WatchStream Watch(string key, WatchOptions? options = null) => Watch(KeyRange.Utf8(key), options);

    /// <summary>Watches a key or a range. Enumerate the result; cancel the enumeration to stop watching.</summary>
    /// <param name="key">The key.</param>
    /// <param name="options">Watch options.</param>
    /// <returns>The watch.</returns>
    public WatchStream Watch(ByteString key, WatchOptions? options = null) => new(_conn, key, options ?? new WatchOptions());

    /// <summary>Watches a key or a range and yields its responses until <paramref name="cancellationToken"/> is canceled.</summary>
    /// <param name="key">The key (UTF-8).</param>
    /// <param name="options">Watch options.</param>
    /// <param name="cancellationToken">Ends the watch.</param>
    /// <returns>The responses.</returns>
    public async IAsyncEnumerable<WatchResponse> WatchAsync(string key, WatchOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var r in Watch(key, options).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return r;
        }
    }
}
