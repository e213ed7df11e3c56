namespace Ketch.Mvcc;

/// <summary>
/// An expected failure of a store operation. <see cref="Exception.Message"/> is etcd's exact error text
/// (clients match on it), <see cref="Error"/> the code for mapping to a gRPC status.
/// </summary>
public sealed class MvccException : Exception
{
    /// <summary>Creates the exception for <paramref name="error"/> with etcd's text.</summary>
    public MvccException(MvccError error)
        : base(TextOf(error)) => Error = error;

    /// <summary>Which failure this is.</summary>
    public MvccError Error { get; }

    /// <summary>etcd's error text for <paramref name="error"/> (api/v3rpc/rpctypes/error.go).</summary>
    public static string TextOf(MvccError error) => error switch
    {
        MvccError.Compacted => "etcdserver: mvcc: required revision has been compacted",
        MvccError.FutureRevision => "etcdserver: mvcc: required revision is a future revision",
        MvccError.DuplicateKey => "etcdserver: duplicate key given in txn request",
        MvccError.KeyNotFound => "etcdserver: key not found",
        MvccError.ValueProvided => "etcdserver: value is provided",
        MvccError.LeaseProvided => "etcdserver: lease is provided",
        MvccError.EmptyKey => "etcdserver: key is not provided",
        MvccError.LeaseNotFound => "etcdserver: requested lease not found",
        MvccError.InvalidCompare => "etcdserver: invalid compare target or result",
        _ => throw new ArgumentOutOfRangeException(nameof(error), error, null),
    };
}
