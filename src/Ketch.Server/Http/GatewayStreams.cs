using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Ketch.Server.Http;

/// <summary>
/// grpc-gateway's streaming calls over HTTP/1, as etcd's gateway serves <c>/v3/watch</c>,
/// <c>/v3/lease/keepalive</c>, <c>/v3/maintenance/snapshot</c> and <c>/v3/election/observe</c>:
/// the request messages are the JSON values of the body, one after another; each response message
/// is written as <c>{"result": message}</c> and a newline, and flushed; an error ends the stream with
/// <c>{"error": {grpc_code, http_code, message, http_status}}</c> (with the error's HTTP status
/// if nothing was written yet). The whole body is read before the call starts: a client that keeps
/// its request body open to send more is not served (etcd3gw and curl send one).
/// </summary>
internal static class GatewayStreams
{
    /// <summary>The messages of a request body: each top-level JSON value parsed with <paramref name="parse"/>.</summary>
    public static List<T> ParseAll<T>(ReadOnlySpan<byte> body, Func<string, T> parse)
    {
        var messages = new List<T>();
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { AllowMultipleValues = true });
        while (reader.Read())
        {
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            var end = (int)reader.BytesConsumed;
            messages.Add(parse(GatewayJson.QuoteLargeIntegers(body[start..end])));
        }
        return messages;
    }

    /// <summary>The parsed body as a gRPC request stream; it ends (a half-close) after the last message.</summary>
    public sealed class Requests<T>(IReadOnlyList<T> messages) : IAsyncStreamReader<T>
    {
        private int _next = -1;

        public T Current => messages[_next];

        public Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_next + 1 >= messages.Count)
            {
                return Task.FromResult(false);
            }
            _next++;
            return Task.FromResult(true);
        }
    }

    /// <summary>The HTTP response as a gRPC response stream of <c>{"result": ...}</c> lines.</summary>
    public sealed class Responses<T>(HttpResponse response, JsonFormatter formatter) : IServerStreamWriter<T>
        where T : IMessage
    {
        public WriteOptions? WriteOptions { get; set; }

        /// <summary>Whether anything was written (the status is sent then).</summary>
        public bool Started { get; private set; }

        public Task WriteAsync(T message) => WriteAsync(message, response.HttpContext.RequestAborted);

        public async Task WriteAsync(T message, CancellationToken cancellationToken)
        {
            Start(200);
            await response.WriteAsync("{\"result\":" + CompactJson.Format(formatter, message) + "}\n", Encoding.UTF8, cancellationToken).ConfigureAwait(false);
            await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Ends the stream with grpc-gateway's error chunk.</summary>
        public async Task FailAsync(StatusCode code, string message, int httpStatus)
        {
            Start(httpStatus);
            var escaped = JsonEncodedText.Encode(message, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping).ToString();
            var status = JsonEncodedText.Encode(ReasonPhrases(httpStatus)).ToString();
            await response.WriteAsync($"{{\"error\":{{\"grpc_code\":{(int)code},\"http_code\":{httpStatus},\"message\":\"{escaped}\",\"http_status\":\"{status}\"}}}}\n", Encoding.UTF8).ConfigureAwait(false);
        }

        private void Start(int status)
        {
            if (!Started)
            {
                Started = true;
                response.StatusCode = status;
                response.ContentType = "application/json";
            }
        }

        private static string ReasonPhrases(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
    }
}
