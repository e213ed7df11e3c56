namespace Ketch.Mvcc;

/// <summary>What a <see cref="Compare"/> looks at (etcd's <c>Compare.CompareTarget</c>).</summary>
public enum CompareTarget
{
    /// <summary>The version.</summary>
    Version,

    /// <summary>The creation revision.</summary>
    Create,

    /// <summary>The modification revision.</summary>
    Mod,

    /// <summary>The value.</summary>
    Value,

    /// <summary>The lease.</summary>
    Lease,
}
