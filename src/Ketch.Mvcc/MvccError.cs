namespace Ketch.Mvcc;

/// <summary>The expected failures of store operations; each maps to one etcd error text.</summary>
public enum MvccError
{
    /// <summary>The requested revision is below the compacted revision.</summary>
    Compacted,

    /// <summary>The requested revision is above the current revision.</summary>
    FutureRevision,

    /// <summary>A transaction writes the same key twice (puts, or a put inside a deleted range).</summary>
    DuplicateKey,

    /// <summary>A put with ignore_value or ignore_lease names a key that does not exist.</summary>
    KeyNotFound,

    /// <summary>A put with ignore_value also carries a value.</summary>
    ValueProvided,

    /// <summary>A put with ignore_lease also carries a lease.</summary>
    LeaseProvided,

    /// <summary>The request has an empty key.</summary>
    EmptyKey,

    /// <summary>A put in a transaction's executed branch names a lease that does not exist (the
    /// caller says which exist).</summary>
    LeaseNotFound,

    /// <summary>A compare names a target or a result outside the enums (only a raw request can).</summary>
    InvalidCompare,
}
