namespace Ketch.Server.Tests;

/// <summary>Free loopback ports (never 2379/2380) and polling with a deadline.</summary>
internal static class TestNet
{
    /// <summary>A free port on <paramref name="ip"/>, never handed out before in this process
    /// (<see cref="Ketch.Testing.Tools.FreePort"/>).</summary>
    public static int FreePort(string ip = "127.0.0.1") => Ketch.Testing.Tools.FreePort(ip);

    /// <summary>Polls <paramref name="condition"/> until it holds or the deadline passes (then fails).</summary>
    public static async Task WaitUntil(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        Exception? last = null;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception e)
            {
                last = e;
            }
            await Task.Delay(20);
        }
        throw new TimeoutException($"timed out waiting for {what}" + (last is null ? "" : $" (last error: {last.Message})"));
    }

    public static Task WaitUntil(Func<bool> condition, TimeSpan timeout, string what) =>
        WaitUntil(() => Task.FromResult(condition()), timeout, what);
}
