using System.Text;

namespace Ketch.Server.Http.HPack;

/// <summary>
/// The HPACK static table (RFC 7541 §2.3.1 and Appendix A): 61 entries, indexes 1–61. Indexes
/// from 62 on address the dynamic table (§2.3.3).
/// </summary>
internal static class HPackStaticTable
{
    /// <summary>Number of entries; the first dynamic-table index is <c>Count + 1</c>.</summary>
    public const int Count = 61;

    /// <summary>Index of <c>:authority</c> (RFC 7541 Appendix A).</summary>
    public const int Authority = 1;

    /// <summary>Index of <c>host</c> (RFC 7541 Appendix A).</summary>
    public const int Host = 38;

    private static readonly (byte[] Name, byte[] Value)[] s_entries = Build(
        ":authority", "",
        ":method", "GET",
        ":method", "POST",
        ":path", "/",
        ":path", "/index.html",
        ":scheme", "http",
        ":scheme", "https",
        ":status", "200",
        ":status", "204",
        ":status", "206",
        ":status", "304",
        ":status", "400",
        ":status", "404",
        ":status", "500",
        "accept-charset", "",
        "accept-encoding", "gzip, deflate",
        "accept-language", "",
        "accept-ranges", "",
        "accept", "",
        "access-control-allow-origin", "",
        "age", "",
        "allow", "",
        "authorization", "",
        "cache-control", "",
        "content-disposition", "",
        "content-encoding", "",
        "content-language", "",
        "content-length", "",
        "content-location", "",
        "content-range", "",
        "content-type", "",
        "cookie", "",
        "date", "",
        "etag", "",
        "expect", "",
        "expires", "",
        "from", "",
        "host", "",
        "if-match", "",
        "if-modified-since", "",
        "if-none-match", "",
        "if-range", "",
        "if-unmodified-since", "",
        "last-modified", "",
        "link", "",
        "location", "",
        "max-forwards", "",
        "proxy-authenticate", "",
        "proxy-authorization", "",
        "range", "",
        "referer", "",
        "refresh", "",
        "retry-after", "",
        "server", "",
        "set-cookie", "",
        "strict-transport-security", "",
        "transfer-encoding", "",
        "user-agent", "",
        "vary", "",
        "via", "",
        "www-authenticate", "");

    /// <summary>The name of entry <paramref name="index"/> (1–61).</summary>
    public static ReadOnlySpan<byte> Name(int index) => s_entries[index - 1].Name;

    /// <summary>The value of entry <paramref name="index"/> (1–61).</summary>
    public static ReadOnlySpan<byte> Value(int index) => s_entries[index - 1].Value;

    private static (byte[], byte[])[] Build(params string[] pairs)
    {
        var entries = new (byte[], byte[])[pairs.Length / 2];
        for (var i = 0; i < entries.Length; i++)
        {
            entries[i] = (Encoding.ASCII.GetBytes(pairs[2 * i]), Encoding.ASCII.GetBytes(pairs[(2 * i) + 1]));
        }
        if (entries.Length != Count)
        {
            throw new InvalidOperationException("HPACK static table must have 61 entries");
        }
        return entries;
    }
}
