namespace Ketch.Mvcc;

/// <summary>
/// A point in the store's history: <see cref="Main"/> is the revision of the write transaction,
/// <see cref="Sub"/> the position of a change inside it (etcd's <c>revision{main, sub}</c>).
/// </summary>
/// <param name="Main">The revision of the transaction, starting at 1 for an empty store.</param>
/// <param name="Sub">The index of the change inside the transaction, from 0.</param>
internal readonly record struct Revision(long Main, long Sub) : IComparable<Revision>
{
    /// <summary>Orders by main revision, then sub revision.</summary>
    public int CompareTo(Revision other)
    {
        var c = Main.CompareTo(other.Main);
        return c != 0 ? c : Sub.CompareTo(other.Sub);
    }

    public static bool operator <(Revision a, Revision b) => a.CompareTo(b) < 0;

    public static bool operator >(Revision a, Revision b) => a.CompareTo(b) > 0;

    public static bool operator <=(Revision a, Revision b) => a.CompareTo(b) <= 0;

    public static bool operator >=(Revision a, Revision b) => a.CompareTo(b) >= 0;

    public override string ToString() => $"{Main}_{Sub}";
}
