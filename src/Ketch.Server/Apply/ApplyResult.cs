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

    /// <summary>An applied Authenticate whose token the proposer signs (JWT), at this auth revision.</summary>
    public static ApplyResult Authenticated(IMessage response, ulong authRevision) => new(response, null) { AuthRevision = authRevision };

    /// <summary>The auth revision an Authenticate was applied at (JWT tokens carry it); else 0.</summary>
    public ulong AuthRevision { get; private init; }

    /// <summary>The response as <typeparamref name="T"/>, throwing the error if it failed.</summary>
    public T Get<T>() where T : class, IMessage => Error is not null ? throw Error : (T)Response!;
}
