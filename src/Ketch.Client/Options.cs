using Google.Protobuf;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Client;

/// <summary>Every option of a Range request (etcd's <c>clientv3.OpOption</c>s for Get).</summary>
public sealed record GetOptions
{
    /// <summary>End of the range [key, RangeEnd); empty for the single key.</summary>
    public ByteString? RangeEnd { get; init; }

    /// <summary>All keys that start with the key.</summary>
    public bool Prefix { get; init; }

    /// <summary>All keys greater than or equal to the key.</summary>
    public bool FromKey { get; init; }

    /// <summary>Largest number of keys returned; 0 for no limit.</summary>
    public long Limit { get; init; }

    /// <summary>Read at this revision; 0 for the latest.</summary>
    public long Revision { get; init; }

    /// <summary>Order of the results.</summary>
    public RangeRequest.Types.SortOrder SortOrder { get; init; }

    /// <summary>Field the results are sorted by.</summary>
    public RangeRequest.Types.SortTarget SortTarget { get; init; }

    /// <summary>Serve from the member's local state (may be stale) instead of a linearizable read.</summary>
    public bool Serializable { get; init; }

    /// <summary>Return keys without values.</summary>
    public bool KeysOnly { get; init; }

    /// <summary>Return only the count.</summary>
    public bool CountOnly { get; init; }

    /// <summary>Only keys modified at or after this revision.</summary>
    public long MinModRevision { get; init; }

    /// <summary>Only keys modified at or before this revision.</summary>
    public long MaxModRevision { get; init; }

    /// <summary>Only keys created at or after this revision.</summary>
    public long MinCreateRevision { get; init; }

    /// <summary>Only keys created at or before this revision.</summary>
    public long MaxCreateRevision { get; init; }
}

/// <summary>Options of a Put request.</summary>
public sealed record PutOptions
{
    /// <summary>Lease to attach the key to; 0 for none.</summary>
    public long Lease { get; init; }

    /// <summary>Return the previous key-value pair.</summary>
    public bool PrevKv { get; init; }

    /// <summary>Keep the current value (only update lease or bump the version).</summary>
    public bool IgnoreValue { get; init; }

    /// <summary>Keep the current lease.</summary>
    public bool IgnoreLease { get; init; }
}

/// <summary>Options of a DeleteRange request.</summary>
public sealed record DeleteOptions
{
    /// <summary>End of the range [key, RangeEnd); empty for the single key.</summary>
    public ByteString? RangeEnd { get; init; }

    /// <summary>All keys that start with the key.</summary>
    public bool Prefix { get; init; }

    /// <summary>All keys greater than or equal to the key.</summary>
    public bool FromKey { get; init; }

    /// <summary>Return the deleted key-value pairs.</summary>
    public bool PrevKv { get; init; }
}

/// <summary>Options of a Watch.</summary>
public sealed record WatchOptions
{
    /// <summary>End of the range [key, RangeEnd); empty for the single key.</summary>
    public ByteString? RangeEnd { get; init; }

    /// <summary>All keys that start with the key.</summary>
    public bool Prefix { get; init; }

    /// <summary>All keys greater than or equal to the key.</summary>
    public bool FromKey { get; init; }

    /// <summary>First revision to deliver (inclusive); 0 for "from now".</summary>
    public long StartRevision { get; init; }

    /// <summary>Ask the server for periodic progress notifications.</summary>
    public bool ProgressNotify { get; init; }

    /// <summary>Deliver the previous key-value pair with each event.</summary>
    public bool PrevKv { get; init; }

    /// <summary>Do not deliver PUT events.</summary>
    public bool NoPut { get; init; }

    /// <summary>Do not deliver DELETE events.</summary>
    public bool NoDelete { get; init; }

    /// <summary>Let the server split large revisions over several responses.</summary>
    public bool Fragment { get; init; }

    /// <summary>End the watch when its member has no leader, as clientv3's watch with
    /// <c>WithRequireLeader</c> (and so <c>etcdctl watch</c>) does: the call carries <c>hasleader: true</c>
    /// even if <see cref="KetchClientOptions.RequireLeader"/> is off, and the member's "no leader" ends
    /// the sequence with <see cref="WatchCanceledException"/>. Otherwise a watch whose member loses its
    /// leader is resumed on the next endpoint.</summary>
    public bool EndWithoutLeader { get; init; }
}
