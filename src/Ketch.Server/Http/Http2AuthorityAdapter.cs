using System.IO.Pipelines;
using Ketch.Server.Http.HPack;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Logging;

namespace Ketch.Server.Http;

/// <summary>
/// Connection middleware on the client port, after <see cref="ProtocolSniffer"/>: on an HTTP/2
/// connection it puts an <see cref="Http2HeaderRewriter"/> between the socket and Kestrel, so that
/// etcdctl 3.4's <c>:authority: http://host:port</c> (endpoint status/hashkv --cluster) reaches
/// Kestrel as <c>host:port</c> instead of being reset as an invalid Host. Kestrel has no option
/// to skip that check and rejects the stream before any application code runs; only the bytes
/// below it can be changed. Server-to-client bytes are not touched. HTTP/1 connections pass by.
/// </summary>
internal sealed class Http2AuthorityAdapter(int headerTableSize, ILoggerFactory loggerFactory)
{
    private readonly ILogger _log = loggerFactory.CreateLogger("Ketch.Server.Http2AuthorityAdapter");

    /// <summary>The middleware: swaps the connection's input for the rewritten stream while Kestrel runs.</summary>
    public async Task InvokeAsync(ConnectionContext context, ConnectionDelegate next)
    {
        if (context.Features.Get<ITlsApplicationProtocolFeature>() is not { } alpn
            || !alpn.ApplicationProtocol.Span.SequenceEqual("h2"u8))
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        var transport = context.Transport;
        // Bounded like Kestrel's own input (1 MiB): a slow reader stops the pump, which stops
        // reading the socket. Inline schedulers: the pump hands bytes to Kestrel's read loop with no
        // extra thread-pool hop.
        var pipe = new Pipe(new PipeOptions(
            pool: context.Features.Get<IMemoryPoolFeature>()?.MemoryPool,
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: 1024 * 1024,
            resumeWriterThreshold: 512 * 1024,
            useSynchronizationContext: false));
        var pump = PumpAsync(context.ConnectionId, transport.Input, pipe.Writer, new Http2HeaderRewriter(headerTableSize));
        context.Transport = new DuplexPipe(pipe.Reader, transport.Output);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            context.Transport = transport;
            // Kestrel is done with the connection: unblock the pump wherever it waits.
            await pipe.Reader.CompleteAsync().ConfigureAwait(false);
            transport.Input.CancelPendingRead();
            await pump.ConfigureAwait(false);
        }
    }

    /// <summary>Socket → rewriter → Kestrel until either side ends. Never throws: a failure ends
    /// Kestrel's input with an <see cref="IOException"/>, which closes the connection.</summary>
    private async Task PumpAsync(string connectionId, PipeReader input, PipeWriter output, Http2HeaderRewriter rewriter)
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    break;
                }
                var buffer = result.Buffer;
                SequencePosition consumed;
                try
                {
                    consumed = rewriter.Process(buffer, output);
                }
                catch
                {
                    input.AdvanceTo(buffer.End); // the connection is ending: drop the rest
                    throw;
                }
                input.AdvanceTo(consumed, buffer.End);
                var flush = await output.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled || result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or HPackDecodingException)
        {
            _log.LogInformation("connection {Connection}: malformed HTTP/2 from the client, closing it: {Error}", connectionId, e.Message);
            error = new IOException(e.Message, e);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A reset socket (IOException, ConnectionResetException) or a bug of ours: either way
            // Kestrel gets the error and closes this connection only.
            _log.LogDebug(e, "connection {Connection}: HTTP/2 input ended", connectionId);
            error = e;
        }
        if (rewriter.Rewriting)
        {
            _log.LogDebug("connection {Connection}: rewrote {Blocks} HTTP/2 header blocks with a URL :authority", connectionId, rewriter.BlocksRewritten);
        }
        await output.CompleteAsync(error).ConfigureAwait(false);
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
