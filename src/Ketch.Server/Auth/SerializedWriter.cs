using Grpc.Core;

namespace Ketch.Server.Auth;

/// <summary>A stream writer that lets two writers share one gRPC stream (which allows one write at
/// a time): the service's own writer and <see cref="WatchGate"/>'s refusals.</summary>
internal sealed class SerializedWriter<T>(IServerStreamWriter<T> inner) : IServerStreamWriter<T>
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public WriteOptions? WriteOptions
    {
        get => inner.WriteOptions;
        set => inner.WriteOptions = value;
    }

    public Task WriteAsync(T message) => WriteAsync(message, CancellationToken.None);

    public async Task WriteAsync(T message, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await inner.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }
}
