using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Ketch.Server.Member;

/// <summary>
/// Member and cluster ids derived as etcd derives them: a member's id from its sorted peer URLs
/// and the cluster token (plus a time for members added later), the cluster id from the sorted
/// member ids; the first 8 bytes of a SHA-1, big-endian.
/// </summary>
internal static class MemberIds
{
    public static ulong MemberId(IEnumerable<string> peerUrls, string clusterToken, DateTimeOffset? addedAt = null)
    {
        var sb = new StringBuilder();
        foreach (var u in peerUrls.Order(StringComparer.Ordinal))
        {
            sb.Append(u);
        }
        sb.Append(clusterToken);
        if (addedAt is { } t)
        {
            sb.Append(t.ToUnixTimeSeconds());
        }
        return First8(Encoding.UTF8.GetBytes(sb.ToString()));
    }

    public static ulong ClusterId(IEnumerable<ulong> memberIds)
    {
        var ids = memberIds.Order().ToArray();
        var bytes = new byte[ids.Length * 8];
        for (var i = 0; i < ids.Length; i++)
        {
            BinaryPrimitives.WriteUInt64BigEndian(bytes.AsSpan(i * 8), ids[i]);
        }
        return First8(bytes);
    }

    private static ulong First8(byte[] data)
    {
        var hash = SHA1.HashData(data);
        var id = BinaryPrimitives.ReadUInt64BigEndian(hash);
        return id == 0 ? 1 : id;
    }
}
