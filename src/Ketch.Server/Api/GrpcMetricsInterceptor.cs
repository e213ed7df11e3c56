using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Ketch.Server.Http;

namespace Ketch.Server.Api;

/// <summary>Counts every gRPC call into <see cref="GrpcMetrics"/>: outermost, so calls refused by
/// the learner gate or by auth are counted with their codes too.</summary>
internal sealed class GrpcMetricsInterceptor(MemberContext member) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var grpc = member.Metrics.Grpc;
        var m = grpc.Started(context.Method, "unary");
        var started = Stopwatch.GetTimestamp();
        try
        {
            var response = await continuation(request, context).ConfigureAwait(false);
            m.Finished(StatusCode.OK, Stopwatch.GetElapsedTime(started), grpc.Extensive);
            return response;
        }
        catch (Exception e)
        {
            m.Finished(CodeOf(e), Stopwatch.GetElapsedTime(started), grpc.Extensive);
            throw;
        }
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        StreamAsync(context, "server_stream", () => continuation(request, responseStream, context));

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        StreamAsync(context, "bidi_stream", () => continuation(requestStream, responseStream, context));

    private async Task StreamAsync(ServerCallContext context, string type, Func<Task> call)
    {
        var grpc = member.Metrics.Grpc;
        var m = grpc.Started(context.Method, type);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await call().ConfigureAwait(false);
            m.Finished(context.Status.StatusCode, Stopwatch.GetElapsedTime(started), grpc.Extensive);
        }
        catch (Exception e)
        {
            m.Finished(CodeOf(e), Stopwatch.GetElapsedTime(started), grpc.Extensive);
            throw;
        }
    }

    private static StatusCode CodeOf(Exception e) => e switch
    {
        RpcException r => r.StatusCode,
        OperationCanceledException => StatusCode.Cancelled,
        _ => StatusCode.Unknown,
    };
}
