using Ketch.Mvcc;
using Ketch.Server.Api;

namespace Ketch.Server.Snapshots;

/// <summary>
/// etcd 3.4's HashKV (mvcc/kvstore.go <c>HashByRev</c>), bit for bit: a CRC-32C over the bucket
/// name <c>key</c>, then the raw key and value (<see cref="EtcdEncoding"/>) of each key-bucket entry
/// with a revision up to the requested one, skipping those at or below the compacted revision that
/// are not in <c>keep(rev)</c>: the latest revision of each key at <c>rev</c>, unless that is a
/// deletion. etcd skips nothing when that keep set is empty (no key live at <c>rev</c>).
/// The history is etcd's backend view (<see cref="StoreView.History"/>): at or below the compacted
/// revision only the latest put of each key, so such a record is in <c>keep(rev)</c> exactly when
/// its key has no record in (compacted, rev]; those keys are collected first (memory: one entry per
/// key written since the compaction).
/// Ketch compacts within the apply, so this is etcd's answer once its compaction is physically done:
/// etcd deletes the compacted records in the background and, where the keep set is empty, hashes
/// those it has not committed the deletion of yet (a physical compaction waits for that).
/// </summary>
internal static class EtcdHashKV
{
    /// <summary>The hash at <paramref name="revision"/> (0: current), the current and the compacted
    /// revision (-1: never compacted), as etcd's HashByRev returns them.</summary>
    /// <exception cref="MvccException">Compacted (revision at or below the compacted one) or future.</exception>
    public static (uint Hash, long CurrentRevision, long CompactRevision) Compute(KvStore kv, long revision)
    {
        ArgumentNullException.ThrowIfNull(kv);
        using var view = kv.OpenView();
        var compacted = view.CompactRevision;
        if (revision > 0 && revision <= compacted)
        {
            throw new MvccException(MvccError.Compacted);
        }
        if (revision > view.CurrentRevision)
        {
            throw new MvccException(MvccError.FutureRevision);
        }
        var rev = revision == 0 ? view.CurrentRevision : revision;

        // For each key written in (compacted, rev]: whether its last record there is a put.
        var touched = new Dictionary<byte[], bool>(KeyComparer.Instance);
        if (compacted > 0)
        {
            foreach (var r in view.History(compacted + 1, rev))
            {
                touched[r.Kv.Key] = !r.IsTombstone;
            }
        }
        var keepIsEmpty = !touched.ContainsValue(true)
            && (compacted <= 0 || !view.History(0, compacted).Any(r => !touched.ContainsKey(r.Kv.Key)));

        var crc = Crc32Castagnoli.Append(0, EtcdEncoding.KeyBucket);
        foreach (var r in view.History(0, rev))
        {
            if (r.Main <= compacted && !keepIsEmpty && touched.ContainsKey(r.Kv.Key))
            {
                continue;
            }
            var (key, value) = EtcdEncoding.Encode(r);
            crc = Crc32Castagnoli.Append(crc, key);
            crc = Crc32Castagnoli.Append(crc, value);
        }
        return (crc, view.CurrentRevision, compacted);
    }

    private sealed class KeyComparer : IEqualityComparer<byte[]>
    {
        public static readonly KeyComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj)
        {
            var h = new HashCode();
            h.AddBytes(obj);
            return h.ToHashCode();
        }
    }
}
