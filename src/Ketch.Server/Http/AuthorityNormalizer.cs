namespace Ketch.Server.Http;

/// <summary>
/// Turns a URL given as an HTTP/2 <c>:authority</c> (or <c>host</c>) into the authority proper.
/// grpc-go puts its dial target's endpoint there verbatim, so etcdctl 3.4 dialing
/// <c>passthrough:///http://host:port</c> sends <c>:authority: http://host:port</c>. RFC 9113
/// §8.3.1 and RFC 3986 §3.2 allow only <c>[userinfo@]host[:port]</c>, and Kestrel resets such a
/// stream before any application code runs, while Go's gRPC server accepts it.
/// </summary>
internal static class AuthorityNormalizer
{
    /// <summary>
    /// When <paramref name="value"/> carries a scheme (<c>scheme://</c>), userinfo (<c>…@</c>) or a
    /// path, query or fragment, gives the <c>host[:port]</c> inside it and returns true; returns
    /// false for a value that is already an authority (or has nothing left once stripped).
    /// </summary>
    public static bool TryNormalize(ReadOnlySpan<byte> value, out ReadOnlySpan<byte> authority)
    {
        var v = value;
        var scheme = v.IndexOf("://"u8);
        if (scheme >= 0)
        {
            v = v[(scheme + 3)..];
        }
        var end = v.IndexOfAny("/?#"u8);
        if (end >= 0)
        {
            v = v[..end];
        }
        var at = v.LastIndexOf((byte)'@');
        if (at >= 0)
        {
            v = v[(at + 1)..];
        }
        authority = v;
        return v.Length != value.Length && v.Length > 0;
    }
}
