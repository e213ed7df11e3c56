using Google.Protobuf;

namespace Ketch.Client;

/// <summary>Range-end arithmetic as etcd defines it.</summary>
public static class KeyRange
{
    /// <summary>The range end <c>"\0"</c>: with a key, every key greater than or equal to it.</summary>
    public static ByteString FromKeyEnd { get; } = ByteString.CopyFrom(0);

    /// <summary>The smallest key greater than every key that starts with <paramref name="prefix"/>:
    /// the prefix with its last byte below 0xff incremented and the rest dropped; <c>"\0"</c> (everything)
    /// if there is no such byte.</summary>
    /// <param name="prefix">The prefix.</param>
    /// <returns>The range end.</returns>
    public static ByteString PrefixEnd(ByteString prefix)
    {
        var end = prefix.ToByteArray();
        for (var i = end.Length - 1; i >= 0; i--)
        {
            if (end[i] < 0xff)
            {
                end[i]++;
                return ByteString.CopyFrom(end, 0, i + 1);
            }
        }
        return FromKeyEnd;
    }

    /// <summary>The range end to send for the given choices (prefix wins over from-key, then the explicit end).</summary>
    internal static ByteString End(ByteString key, ByteString? rangeEnd, bool prefix, bool fromKey)
    {
        if (prefix)
        {
            return key.IsEmpty ? FromKeyEnd : PrefixEnd(key);
        }
        if (fromKey)
        {
            return FromKeyEnd;
        }
        return rangeEnd ?? ByteString.Empty;
    }

    /// <summary>The start key to send: an empty key with prefix or from-key means "every key", sent as <c>"\0"</c>.</summary>
    internal static ByteString Start(ByteString key, bool prefix, bool fromKey) =>
        key.IsEmpty && (prefix || fromKey) ? FromKeyEnd : key;

    /// <summary>UTF-8 bytes of a string key.</summary>
    internal static ByteString Utf8(string s) => ByteString.CopyFromUtf8(s);
}
