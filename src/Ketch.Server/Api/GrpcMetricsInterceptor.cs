using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Ketch.Server.Http;

namespace Ketch.Server.Api;

/// <summary>Counts every gRPC call into <see cref="GrpcMetrics"/>: outermost, so calls refused by
/// the learner gate or by auth are counted with their codes too. Messages count as go-grpc-prometheus
/// counts them: a unary call's request on arrival and its response only when the call succeeds; a
/// stream's messages each as it is read or written successfully.</summary>
internal sealed class GrpcMetricsInterceptor(MemberContext member) : Interceptor
{
    /// <summary>The request header etcd's Go client (and etcdctl) sends with its API version, "3.4".</summary>
    private const string ClientApiVersionHeader = "client-api-version";

    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var m = Start(context, "unary");
        m.Received(request);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var response = await continuation(request, context).ConfigureAwait(false);
            m.Finished(StatusCode.OK, Stopwatch.GetElapsedTime(started));
            m.Sent(response);
            return response;
        }
        catch (Exception e)
        {
            m.Finished(CodeOf(e, context), Stopwatch.GetElapsedTime(started));
            throw;
        }
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var call = new StreamCall(Start(context, "client_stream"));
        return StreamAsync(call, context, async () =>
        {
            var response = await continuation(new CountingReader<TRequest>(requestStream, call), context).ConfigureAwait(false);
            call.Method.Sent(response);
            return response;
        });
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var call = new StreamCall(Start(context, "server_stream"));
        call.Method.Received(request);
        return StreamAsync(call, context, async () =>
        {
            await continuation(request, new CountingWriter<TResponse>(responseStream, call), context).ConfigureAwait(false);
            return true;
        });
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var call = new StreamCall(Start(context, "bidi_stream"));
        return StreamAsync(call, context, async () =>
        {
            await continuation(new CountingReader<TRequest>(requestStream, call), new CountingWriter<TResponse>(responseStream, call), context).ConfigureAwait(false);
            return true;
        });
    }

    private GrpcMetrics.PerMethod Start(ServerCallContext context, string type) =>
        member.Metrics.Grpc.Started(context.Method, type, context.RequestHeaders.GetValue(ClientApiVersionHeader));

    private static async Task<T> StreamAsync<T>(StreamCall call, ServerCallContext context, Func<Task<T>> handler)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var result = await handler().ConfigureAwait(false);
            call.Method.Finished(EndOfStream(context, call), Stopwatch.GetElapsedTime(started));
            return result;
        }
        catch (Exception e)
        {
            call.Method.Finished(CodeOf(e, context), Stopwatch.GetElapsedTime(started));
            throw;
        }
    }

    private static StatusCode CodeOf(Exception e, ServerCallContext context) => e switch
    {
        RpcException r => r.StatusCode,
        OperationCanceledException => Gone(context),
        // The client's connection or stream broke under a read or write (a client that exits
        // without ending its stream): gRPC-Go's "transport is closing", which etcd's keep-alive
        // stream counts as Unavailable.
        IOException => StatusCode.Unavailable,
        _ => StatusCode.Unknown,
    };

    /// <summary>The code of a stream whose handler returned. Our stream handlers return quietly
    /// when the client goes away (its reset or its deadline cancels the call); etcd's answer the
    /// context's error then, so that such a stream counts Canceled (or DeadlineExceeded), not OK.
    /// Kestrel cancels the call's token from the thread pool, so the handler may return before the
    /// token shows it: a read or write that failed tells it too.</summary>
    private static StatusCode EndOfStream(ServerCallContext context, StreamCall call) =>
        context.Status.StatusCode == StatusCode.OK && (call.Broken || context.CancellationToken.IsCancellationRequested)
            ? Gone(context)
            : context.Status.StatusCode;

    private static StatusCode Gone(ServerCallContext context) =>
        context.Deadline <= DateTime.UtcNow ? StatusCode.DeadlineExceeded : StatusCode.Cancelled;

    /// <summary>One streaming call: its method's counters, and whether a read or write of it failed.</summary>
    private sealed class StreamCall(GrpcMetrics.PerMethod method)
    {
        private volatile bool _broken;

        public GrpcMetrics.PerMethod Method => method;

        public bool Broken => _broken;

        /// <summary>A read or write completed: counted if it succeeded, remembered if it failed.</summary>
        public bool Completed(Task io)
        {
            if (io.IsCompletedSuccessfully)
            {
                return true;
            }
            _broken = true;
            return false;
        }
    }

    /// <summary>A request stream that counts each message it yields.</summary>
    private sealed class CountingReader<T>(IAsyncStreamReader<T> inner, StreamCall call) : IAsyncStreamReader<T>
    {
        public T Current => inner.Current;

        public Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            var next = inner.MoveNext(cancellationToken);
            if (!next.IsCompleted)
            {
                return CountWhenReadAsync(next);
            }
            if (call.Completed(next) && next.Result)
            {
                call.Method.Received(inner.Current!);
            }
            return next;
        }

        private async Task<bool> CountWhenReadAsync(Task<bool> next)
        {
            await ((Task)next).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (call.Completed(next) && next.Result)
            {
                call.Method.Received(inner.Current!);
            }
            return await next.ConfigureAwait(false);
        }
    }

    /// <summary>A response stream that counts each message once it is written.</summary>
    private sealed class CountingWriter<T>(IServerStreamWriter<T> inner, StreamCall call) : IServerStreamWriter<T>
    {
        public WriteOptions? WriteOptions
        {
            get => inner.WriteOptions;
            set => inner.WriteOptions = value;
        }

        public Task WriteAsync(T message) => Counted(inner.WriteAsync(message), message);

        public Task WriteAsync(T message, CancellationToken cancellationToken) => Counted(inner.WriteAsync(message, cancellationToken), message);

        /// <summary>No state machine for a write that completed at once, the usual case.</summary>
        private Task Counted(Task write, T message)
        {
            if (!write.IsCompleted)
            {
                return CountWhenWrittenAsync(write, message);
            }
            if (call.Completed(write))
            {
                call.Method.Sent(message!);
            }
            return write;
        }

        private async Task CountWhenWrittenAsync(Task write, T message)
        {
            await write.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (call.Completed(write))
            {
                call.Method.Sent(message!);
            }
            await write.ConfigureAwait(false);
        }
    }
}
