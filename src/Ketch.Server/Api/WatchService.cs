using Grpc.Core;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Api;

/// <summary>etcd's Watch service: one <see cref="WatchSession"/> per bidirectional stream.</summary>
internal sealed class WatchService(MemberContext member) : Watch.WatchBase
{
    public override async Task Watch(IAsyncStreamReader<WatchRequest> requestStream, IServerStreamWriter<WatchResponse> responseStream, ServerCallContext context)
    {
        using var call = member.StreamToken(context);
        var session = new WatchSession(member, responseStream, call.Token);
        var writer = session.RunWriterAsync();
        member.Metrics.WatchStream(+1);
        try
        {
            while (await requestStream.MoveNext(call.Token).ConfigureAwait(false))
            {
                await session.HandleAsync(requestStream.Current).ConfigureAwait(false);
            }
            // As etcd: a client that half-closes keeps receiving until the call ends.
            await writer.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException)
        {
        }
        finally
        {
            member.Metrics.WatchStream(-1);
            await session.DisposeAsync().ConfigureAwait(false);
            await writer.ConfigureAwait(false);
        }
        member.ThrowIfStopped(context);
    }
}
