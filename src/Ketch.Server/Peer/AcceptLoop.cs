using System.Net.Sockets;

namespace Ketch.Server.Peer;

/// <summary>
/// Accepts connections until stopped. A failed accept (out of file descriptors, say) is waited out
/// and retried, 5 ms doubling to 1 s, as Go's HTTP server does: ending the loop instead would leave
/// the member deaf to its peers for good once the condition had passed.
/// </summary>
internal static class AcceptLoop
{
    private static readonly TimeSpan s_firstBackoff = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromSeconds(1);

    /// <param name="accept">Waits for the next connection.</param>
    /// <param name="serve">Takes over an accepted connection (and must not block).</param>
    /// <param name="failed">Told of each failed accept before the wait.</param>
    /// <param name="time">The clock of the waits.</param>
    /// <param name="stop">Ends the loop; an accept failing once it is set ends it too.</param>
    public static async Task RunAsync(
        Func<CancellationToken, ValueTask<TcpClient>> accept,
        Action<TcpClient> serve,
        Action<SocketException, TimeSpan> failed,
        TimeProvider time,
        CancellationToken stop)
    {
        var backoff = TimeSpan.Zero;
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await accept(stop).ConfigureAwait(false);
            }
            catch (Exception e) when (stop.IsCancellationRequested || e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                backoff = backoff == TimeSpan.Zero ? s_firstBackoff : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, s_maxBackoff.Ticks));
                failed(e, backoff);
                try
                {
                    await Task.Delay(backoff, time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            backoff = TimeSpan.Zero;
            serve(client);
        }
    }
}
