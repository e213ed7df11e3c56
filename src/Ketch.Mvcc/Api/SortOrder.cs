namespace Ketch.Mvcc;

/// <summary>Sort order of a range (etcd's <c>RangeRequest.SortOrder</c>).</summary>
public enum SortOrder
{
    /// <summary>No sorting: key order.</summary>
    None,

    /// <summary>Ascending by the target.</summary>
    Ascend,

    /// <summary>Descending by the target.</summary>
    Descend,
}
