using Grpc.Core;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Auth;

/// <summary>
/// The request side of a watch stream as the watch service sees it: a create request the caller
/// may not make is answered here (created and canceled, etcd's <c>InvalidWatchID</c> -1, the error
/// text as cancel reason — clientv3 turns it back into the error) and never reaches the service.
/// </summary>
internal sealed class WatchGate(IAsyncStreamReader<WatchRequest> inner, SerializedWriter<WatchResponse> writer, AuthInterceptor auth, ServerCallContext context)
    : IAsyncStreamReader<WatchRequest>
{
    public WatchRequest Current => inner.Current;

    public async Task<bool> MoveNext(CancellationToken cancellationToken)
    {
        while (await inner.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            var request = inner.Current;
            if (request.RequestUnionCase != WatchRequest.RequestUnionOneofCase.CreateRequest
                || auth.CheckWatch(request.CreateRequest, context) is not { } reason)
            {
                return true;
            }
            await writer.WriteAsync(new WatchResponse
            {
                Header = auth.Header(),
                WatchId = -1,
                Created = true,
                Canceled = true,
                CancelReason = reason,
            }, cancellationToken).ConfigureAwait(false);
        }
        return false;
    }
}
