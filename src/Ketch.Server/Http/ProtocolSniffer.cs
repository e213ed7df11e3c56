using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.AspNetCore.Http.Features;
using System.Security.Cryptography.X509Certificates;

namespace Ketch.Server.Http;

/// <summary>
/// Serves gRPC (HTTP/2 with prior knowledge) and HTTP/1.1 on the same plaintext port, as etcd
/// does. Without TLS, Kestrel has no ALPN to choose between them and picks HTTP/1.1 for an
/// endpoint that allows both. This connection middleware peeks (without consuming) at the first
/// bytes: a connection opening with the HTTP/2 client preface <c>PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n</c>
/// (RFC 9113 §3.4) is marked as having negotiated "h2", and Kestrel then runs HTTP/2 on it;
/// anything else stays HTTP/1.1. The decision is taken at the first byte that differs from the
/// preface, so a short HTTP/1 request never waits for more bytes.
/// </summary>
internal static class ProtocolSniffer
{
    private static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    public static async Task InvokeAsync(ConnectionContext context, ConnectionDelegate next)
    {
        if (await IsHttp2Async(context).ConfigureAwait(false))
        {
            var h2 = new NegotiatedH2();
            context.Features.Set<ITlsConnectionFeature>(h2);
            context.Features.Set<ITlsApplicationProtocolFeature>(h2);
        }
        await next(context).ConfigureAwait(false);
    }

    private static async Task<bool> IsHttp2Async(ConnectionContext context)
    {
        var input = context.Transport.Input;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(context.ConnectionClosed).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
            var buffer = result.Buffer;
            var verdict = Check(buffer);
            if (verdict is not null || result.IsCompleted || result.IsCanceled)
            {
                input.AdvanceTo(buffer.Start); // nothing consumed: Kestrel reads it all again
                return verdict == true;
            }
            input.AdvanceTo(buffer.Start, buffer.End); // wait for more bytes
        }
    }

    /// <summary>true: the preface; false: something else; null: a prefix of the preface so far.</summary>
    private static bool? Check(ReadOnlySequence<byte> buffer)
    {
        var n = (int)Math.Min(buffer.Length, Preface.Length);
        Span<byte> head = stackalloc byte[24];
        buffer.Slice(0, n).CopyTo(head);
        if (!head[..n].SequenceEqual(Preface[..n]))
        {
            return false;
        }
        return n == Preface.Length ? true : null;
    }

    /// <summary>Makes Kestrel's protocol selection see "h2" as if ALPN had chosen it. It adds no
    /// TLS handshake feature, so HTTP/2's TLS requirements are not applied.</summary>
    private sealed class NegotiatedH2 : ITlsConnectionFeature, ITlsApplicationProtocolFeature
    {
        public X509Certificate2? ClientCertificate { get; set; }

        public ReadOnlyMemory<byte> ApplicationProtocol => "h2"u8.ToArray();

        public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) =>
            Task.FromResult<X509Certificate2?>(null);
    }
}
