using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using Ketch.Server.Auth;

namespace Ketch.Server.Apply;

/// <summary>
/// The data of a normal Raft entry: <c>kind (1 byte) | request id (uint64 LE) | the etcd protobuf
/// request</c>. The request id lets the member that proposed it wake its waiting client when the
/// entry is applied (every member applies it; only the proposer has a waiter).
/// </summary>
/// <remarks>
/// A client request also carries its sender (<see cref="RequestAuth"/>, etcd's request header
/// username and auth revision), so that every member re-checks it at apply: then the kind byte has
/// its high bit (<see cref="AuthFlag"/>) set and <c>auth revision (uint64 LE) | user length
/// (int32 LE) | user (UTF-8)</c> sits between the request id and the request. Kinds stay below
/// 0x80, so entries written before the header existed (high bit clear) decode as they always did
/// and are applied unchecked, as they were when written. A member older than the header cannot read
/// the flagged form: every member of a cluster must run a version that knows it.
/// </remarks>
internal readonly record struct RaftRequest(RaftRequestKind Kind, ulong Id, ReadOnlyMemory<byte> Payload, RequestAuth? Auth = null)
{
    public const int HeaderBytes = 9;

    /// <summary>Set on the kind byte when an auth header follows the request id.</summary>
    public const byte AuthFlag = 0x80;

    /// <summary>The auth header without the user name: revision and name length.</summary>
    public const int AuthFixedBytes = 12;

    public static byte[] Encode(RaftRequestKind kind, ulong id, IMessage payload, RequestAuth? auth = null)
    {
        var size = payload.CalculateSize();
        var user = auth is null ? [] : Encoding.UTF8.GetBytes(auth.User);
        var authBytes = auth is null ? 0 : AuthFixedBytes + user.Length;
        var buffer = new byte[HeaderBytes + authBytes + size];
        buffer[0] = (byte)((byte)kind | (auth is null ? 0 : AuthFlag));
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(1), id);
        if (auth is not null)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(HeaderBytes), auth.Revision);
            BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(HeaderBytes + 8), user.Length);
            user.CopyTo(buffer.AsSpan(HeaderBytes + AuthFixedBytes));
        }
        payload.WriteTo(buffer.AsSpan(HeaderBytes + authBytes));
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
        var kind = (RaftRequestKind)(span[0] & ~AuthFlag);
        if (!Enum.IsDefined(kind))
        {
            return false;
        }
        var id = BinaryPrimitives.ReadUInt64LittleEndian(span[1..]);
        if ((span[0] & AuthFlag) == 0)
        {
            request = new RaftRequest(kind, id, data[HeaderBytes..]);
            return true;
        }
        if (data.Length < HeaderBytes + AuthFixedBytes)
        {
            return false;
        }
        var revision = BinaryPrimitives.ReadUInt64LittleEndian(span[HeaderBytes..]);
        var userLength = BinaryPrimitives.ReadInt32LittleEndian(span[(HeaderBytes + 8)..]);
        var start = HeaderBytes + AuthFixedBytes + (long)userLength;
        if (userLength < 0 || data.Length < start)
        {
            return false;
        }
        var user = Encoding.UTF8.GetString(span.Slice(HeaderBytes + AuthFixedBytes, userLength));
        request = new RaftRequest(kind, id, data[(int)start..], new RequestAuth(user, revision));
        return true;
    }
}
