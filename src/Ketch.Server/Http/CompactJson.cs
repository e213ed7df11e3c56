using System.Text;

namespace Ketch.Server.Http;

/// <summary>
/// The gateway's JSON output without the spaces Google.Protobuf's formatter puts between tokens
/// (<c>{ "header": { "revision": "2" } }</c>): etcd's grpc-gateway writes Go's compact JSON
/// (<c>{"header":{"revision":"2"}}</c>), and a script that greps a curl answer for
/// <c>"count":"1"</c> should find it on ketch too. Only whitespace outside strings is dropped;
/// every token stays byte for byte as the formatter wrote it.
/// </summary>
internal static class CompactJson
{
    public static string Format(Google.Protobuf.JsonFormatter formatter, Google.Protobuf.IMessage message) => Compact(formatter.Format(message));

    public static string Compact(string json)
    {
        var text = new StringBuilder(json.Length);
        var inString = false;
        var escaped = false;
        foreach (var c in json)
        {
            if (inString)
            {
                text.Append(c);
                if (escaped)
                {
                    escaped = false;
                }
                else if (c == '\\')
                {
                    escaped = true;
                }
                else if (c == '"')
                {
                    inString = false;
                }
            }
            else if (c is not (' ' or '\n' or '\r' or '\t'))
            {
                text.Append(c);
                inString = c == '"';
            }
        }
        return text.ToString();
    }
}
