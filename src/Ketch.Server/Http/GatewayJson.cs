using System.Numerics;
using System.Text;
using System.Text.Json;

namespace Ketch.Server.Http;

/// <summary>
/// The gateway's JSON input, made safe for protobuf's JSON parser. etcd's gateway (Go) reads a
/// 64-bit integer written as a JSON number exactly; Google.Protobuf's parser reads every number as
/// a double, so ids above 2^53 (lease ids, member ids: most of them) came out rounded, and a lease
/// granted by id could then not be found (found with python3-etcd3gw, which sends ids as numbers).
/// Integer literals beyond a double's exact range are therefore quoted before parsing: the proto3
/// JSON mapping accepts 64-bit integers as strings. Other numbers are left alone (an enum may
/// be given by its number).
/// </summary>
internal static class GatewayJson
{
    private static readonly BigInteger s_exactLimit = BigInteger.Pow(2, 53);

    /// <summary>The text of <paramref name="utf8"/>, with integers beyond ±2^53 quoted. Malformed
    /// JSON is returned as it is, for the parser to report.</summary>
    public static string QuoteLargeIntegers(ReadOnlySpan<byte> utf8)
    {
        List<(int Start, int Length)>? large = null;
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { AllowMultipleValues = true, CommentHandling = JsonCommentHandling.Skip });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.Number && IsLargeInteger(reader.ValueSpan))
                {
                    (large ??= []).Add(((int)reader.TokenStartIndex, reader.ValueSpan.Length));
                }
            }
        }
        catch (JsonException)
        {
            return Encoding.UTF8.GetString(utf8);
        }
        if (large is null)
        {
            return Encoding.UTF8.GetString(utf8);
        }
        var text = new StringBuilder(utf8.Length + (2 * large.Count));
        var at = 0;
        foreach (var (start, length) in large)
        {
            text.Append(Encoding.UTF8.GetString(utf8[at..start])).Append('"')
                .Append(Encoding.UTF8.GetString(utf8.Slice(start, length))).Append('"');
            at = start + length;
        }
        return text.Append(Encoding.UTF8.GetString(utf8[at..])).ToString();
    }

    private static bool IsLargeInteger(ReadOnlySpan<byte> number)
    {
        if (number.IndexOfAny("."u8) >= 0 || number.IndexOfAny("eE"u8) >= 0 || number.Length < 16)
        {
            return false; // not an integer literal, or fewer digits than 2^53 (16 digits) has
        }
        return BigInteger.Abs(BigInteger.Parse(Encoding.ASCII.GetString(number), System.Globalization.CultureInfo.InvariantCulture)) >= s_exactLimit;
    }
}
