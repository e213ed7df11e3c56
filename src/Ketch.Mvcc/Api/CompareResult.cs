namespace Ketch.Mvcc;

/// <summary>How a <see cref="Compare"/> compares (etcd's <c>Compare.CompareResult</c>).</summary>
public enum CompareResult
{
    /// <summary>Equal.</summary>
    Equal,

    /// <summary>Greater than the operand.</summary>
    Greater,

    /// <summary>Less than the operand.</summary>
    Less,

    /// <summary>Not equal.</summary>
    NotEqual,
}
