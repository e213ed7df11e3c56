namespace Ketch.Mvcc;

/// <summary>Sort target of a range (etcd's <c>RangeRequest.SortTarget</c>).</summary>
public enum SortTarget
{
    /// <summary>The key.</summary>
    Key,

    /// <summary>The version.</summary>
    Version,

    /// <summary>The creation revision.</summary>
    Create,

    /// <summary>The modification revision.</summary>
    Mod,

    /// <summary>The value.</summary>
    Value,
}
