using Google.Protobuf;
using Ketch.Api.Etcdserverpb;
using Result = Ketch.Api.Etcdserverpb.Compare.Types.CompareResult;
using Target = Ketch.Api.Etcdserverpb.Compare.Types.CompareTarget;

namespace Ketch.Client;

/// <summary>Builds the guards of a transaction: <c>Cmp.Value("k", "=", "v")</c>, <c>Cmp.Version("k", "&gt;", 0)</c>.
/// Operators are etcd's: <c>=</c>, <c>!=</c>, <c>&lt;</c>, <c>&gt;</c>.</summary>
public static class Cmp
{
    /// <summary>Compares the value of a key.</summary>
    /// <param name="key">The key (UTF-8).</param>
    /// <param name="op">One of <c>= != &lt; &gt;</c>.</param>
    /// <param name="value">The value (UTF-8).</param>
    /// <returns>The comparison.</returns>
    public static Compare Value(string key, string op, string value) =>
        Value(KeyRange.Utf8(key), op, KeyRange.Utf8(value));

    /// <summary>Compares the value of a key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="op">One of <c>= != &lt; &gt;</c>.</param>
    /// <param name="value">The value.</param>
    /// <returns>The comparison.</returns>
    public static Compare Value(ByteString key, string op, ByteString value) =>
        new() { Key = key, Target = Target.Value, Result = Parse(op), Value = value };

    /// <summary>Compares the version of a key (0 when absent).</summary>
    /// <param name="key">The key (UTF-8).</param>
    /// <param name="op">One of <c>= != &lt; &gt;</c>.</param>
    /// <param name="version">The version.</param>
    /// <returns>The comparison.</returns>
    public static Compare Version(string key, string op, long version) =>
        new() { Key = KeyRange.Utf8(key), Target = Target.Version, Result = Parse(op), Version = version };

    /// <summary>Compares the creation revision of a key (0 when absent).</summary>
    /// <param name="key">The key (UTF-8).</param>
    /// <param name="op">One of <c>= != &lt; &gt;</c>.</param>
    /// <param name="revision">The revision.</param>
    /// <returns>The comparison.</returns>
    public static Compare CreateRevision(string key, string op, long revision) =>
        CreateRevision(KeyRange.Utf8(key), op, revision);

    /// <summary>Compares the creation revision of a key (0 when absent).</summary>
    /// <param name="key">The key.</param>
    /// <param name="op">One of <c>= != &lt; &gt;</c>.</param>
    /// <param name="revision">The revision.</param>
    /// <returns>The comparison.</returns>
    public static Compare CreateRevision(ByteString key, string op, long revision) =>
        new() { Key = key, Target = Target.Create, Result = Parse(op), CreateRevision = revision };

    /// <summary>Compares the last modification revision of a key.</summary>
    /// <param name="key">The key (UTF-8).</param>
    /// <param name="op">One of <c>= != &lt; &gt;</c>.</param>
    /// <param name="revision">The revision.</param>
    /// <returns>The comparison.</returns>
    public static Compare ModRevision(string key, string op, long revision) =>
        new() { Key = KeyRange.Utf8(key), Target = Target.Mod, Result = Parse(op), ModRevision = revision };

    /// <summary>Compares the lease of a key.</summary>
    /// <param name="key">The key (UTF-8).</param>
    /// <param name="op">One of <c>= != &lt; &gt;</c>.</param>
    /// <param name="lease">The lease id.</param>
    /// <returns>The comparison.</returns>
    public static Compare Lease(string key, string op, long lease) =>
        new() { Key = KeyRange.Utf8(key), Target = Target.Lease, Result = Parse(op), Lease = lease };

    /// <summary>Parses etcd's comparison operators.</summary>
    /// <param name="op">One of <c>= != &lt; &gt;</c> (<c>==</c> also accepted).</param>
    /// <returns>The result kind.</returns>
    public static Result Parse(string op) => op switch
    {
        "=" or "==" => Result.Equal,
        "!=" => Result.NotEqual,
        "<" => Result.Less,
        ">" => Result.Greater,
        _ => throw new ArgumentException($"unknown comparison operator \"{op}\"", nameof(op)),
    };
}
