using System.Buffers.Binary;
using Ketch.Mvcc;
using Ketch.Server.Snapshots;

namespace Ketch.Server.Peer;

/// <summary>
/// A member's store hash, asked for over the peer port, for the corruption checks
/// (<see cref="Member.CorruptionCheck"/>). etcd asks its peers the same over their peer URLs
/// (<c>/members/hashkv</c>), not their client URLs, where HashKV needs a root user once auth is on.
/// After the handshake (<see cref="PeerStreamKind.Hash"/>) and its answer, the asker sends the
/// revision (int64 LE; 0 is the current one), and the member answers one byte
/// (<see cref="PeerHashResult"/>) and, when it is <see cref="PeerHashResult.Ok"/>, the hash (uint32
/// LE), the compacted revision and the current revision (int64 LE each): etcd's HashKV answer.
/// </summary>
internal static class PeerHashQuery
{
    private const int AnswerBytes = 1 + 4 + 8 + 8;

    /// <summary>Asks the member <paramref name="to"/> at <paramref name="peerUrls"/> (the first that
    /// answers) for its hash at <paramref name="revision"/>.</summary>
    /// <exception cref="IOException">No URL answered (the messages say why), or the member refused the handshake.</exception>
    public static Task<PeerHash> FetchAsync(IReadOnlyList<string> peerUrls, ulong clusterId, ulong from, ulong to, long revision,
        Tls.TlsCredentials? tls, TimeSpan timeout, CancellationToken ct)
    {
        var request = new byte[PeerHandshake.Bytes + 8];
        PeerHandshake.Write(clusterId, from, to, PeerStreamKind.Hash).CopyTo(request, 0);
        BinaryPrimitives.WriteInt64LittleEndian(request.AsSpan(PeerHandshake.Bytes), revision);
        return PeerQuery.AskAsync(peerUrls, tls, timeout, request, ReadAsync, ct);
    }

    private static async Task<PeerHash> ReadAsync(Stream stream, string url, CancellationToken ct)
    {
        var status = new byte[1];
        await stream.ReadExactlyAsync(status, ct).ConfigureAwait(false);
        if (status[0] != PeerHandshake.Accepted)
        {
            throw new IOException($"refused the hash query (handshake answer {status[0]})");
        }
        var answer = new byte[AnswerBytes];
        await stream.ReadExactlyAsync(answer, ct).ConfigureAwait(false);
        return new PeerHash((PeerHashResult)answer[0], BinaryPrimitives.ReadUInt32LittleEndian(answer.AsSpan(1)),
            BinaryPrimitives.ReadInt64LittleEndian(answer.AsSpan(5)), BinaryPrimitives.ReadInt64LittleEndian(answer.AsSpan(13)));
    }

    /// <summary>Reads the asker's revision from <paramref name="stream"/> and answers with the hash of
    /// <paramref name="kv"/> there.</summary>
    public static async Task AnswerAsync(Stream stream, KvStore kv, TimeSpan timeout, TimeProvider time, CancellationToken ct)
    {
        using var deadline = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, deadline.Token);
        var revision = new byte[8];
        await stream.ReadExactlyAsync(revision, linked.Token).ConfigureAwait(false);
        var answer = new byte[AnswerBytes];
        try
        {
            var (hash, current, compacted) = EtcdHashKV.Compute(kv, BinaryPrimitives.ReadInt64LittleEndian(revision));
            answer[0] = (byte)PeerHashResult.Ok;
            BinaryPrimitives.WriteUInt32LittleEndian(answer.AsSpan(1), hash);
            BinaryPrimitives.WriteInt64LittleEndian(answer.AsSpan(5), compacted);
            BinaryPrimitives.WriteInt64LittleEndian(answer.AsSpan(13), current);
        }
        catch (MvccException e)
        {
            answer[0] = (byte)(e.Error == MvccError.FutureRevision ? PeerHashResult.FutureRevision : PeerHashResult.Compacted);
        }
        await stream.WriteAsync(answer, linked.Token).ConfigureAwait(false);
        await stream.FlushAsync(linked.Token).ConfigureAwait(false);
    }
}

/// <summary>How a member answered a hash query.</summary>
internal enum PeerHashResult : byte
{
    Ok = 0,

    /// <summary>The member has not applied the revision yet.</summary>
    FutureRevision = 1,

    /// <summary>The revision is compacted on the member.</summary>
    Compacted = 2,
}

/// <summary>A member's answer to a hash query: with <see cref="PeerHashResult.Ok"/>, etcd's HashKV
/// hash, compacted revision (-1: never) and current revision.</summary>
internal readonly record struct PeerHash(PeerHashResult Result, uint Hash, long CompactRevision, long CurrentRevision);
