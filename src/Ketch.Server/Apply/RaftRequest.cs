using System.Buffers.Binary;
using Google.Protobuf;

namespace Ketch.Server.Apply;

/// <summary>
/// The data of a normal Raft entry: <c>kind (1 byte) | request id (uint64 LE) | the etcd protobuf
/// request</c>. The request id lets the member that proposed it wake its waiting client when the
/// entry is applied (every member applies it; only the proposer has a waiter).
/// </summary>
internal readonly record struct RaftRequest(RaftRequestKind Kind, ulong Id, ReadOnlyMemory<byte> Payload)
{
    public const int HeaderBytes = 9;

    public static byte[] Encode(RaftRequestKind kind, ulong id, IMessage payload)
    {
        var size = payload.CalculateSize();
        var buffer = new byte[HeaderBytes + size];
        buffer[0] = (byte)kind;
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(1), id);
        payload.WriteTo(buffer.AsSpan(HeaderBytes));
        return buffer;
    }

    /// <summary>Reads an entry's data; false when it is not one of ours (too short, unknown kind).</summary>
    public static bool TryDecode(ReadOnlyMemory<byte> data, out RaftRequest request)
    {
        request = default;
        if (data.Length < HeaderBytes)
        {
            return false;
        }
        var span = data.Span;
        var kind = (RaftRequestKind)span[0];
        if (!Enum.IsDefined(kind))
        {
            return false;
        }
        request = new RaftRequest(kind, BinaryPrimitives.ReadUInt64LittleEndian(span[1..]), data[HeaderBytes..]);
        return true;
    }
}
