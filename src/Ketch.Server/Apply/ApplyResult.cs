using Google.Protobuf;
using Grpc.Core;

namespace Ketch.Server.Apply;

/// <summary>What applying one request produced: a response message, or etcd's error for it.</summary>
internal sealed class ApplyResult
{
    private ApplyResult(IMessage? response, RpcException? error)
    {
        Response = response;
        Error = error;
    }

    public IMessage? Response { get; }

    public RpcException? Error { get; }

    public static ApplyResult Ok(IMessage response) => new(response, null);

    public static ApplyResult Fail(RpcException error) => new(null, error);

    /// <summary>The response as <typeparamref name="T"/>, throwing the error if it failed.</summary>
    public T Get<T>() where T : class, IMessage => Error is not null ? throw Error : (T)Response!;
}
