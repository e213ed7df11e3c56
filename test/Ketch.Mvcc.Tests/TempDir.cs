namespace Ketch.Mvcc.Tests;

/// <summary>A fresh directory under the system temp dir, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "ketch-mvcc-" + Guid.NewGuid().ToString("N"));

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

internal static class Stores
{
    /// <summary>Deterministic options: no timer, small batches so commits happen mid-test.</summary>
    public static KvStoreOptions Options(string dir, int batchLimit = 7) => new()
    {
        Directory = dir,
        BatchLimit = batchLimit,
        BatchInterval = TimeSpan.Zero,
        WatchQueueCapacity = 8,
    };

    public static byte[] B(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    public static string S(byte[] b) => System.Text.Encoding.UTF8.GetString(b);

    /// <summary>Polls <paramref name="condition"/> until true or the deadline; never a bare sleep.</summary>
    public static async Task WaitUntil(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("timed out waiting for " + what);
            }

            await Task.Delay(5);
        }
    }

    /// <summary>Reads one response with a deadline.</summary>
    public static async Task<WatchResponse?> Next(Watcher w, int timeoutMs = 5_000)
    {
        using var cts = new CancellationTokenSource(timeoutMs);
        return await w.ReadAsync(cts.Token);
    }
}
