using System.Text;

namespace Ketch.Server.Peer;

/// <summary>
/// A store snapshot received from the leader lives in a file under <c>member/snap-in/</c>; the Raft
/// snapshot's data is only a reference to it: <c>"KETCHREF" | file name (UTF-8)</c>. The newest
/// file is kept until a later one arrives, so a restart after a crash can finish installing it.
/// </summary>
internal static class SnapshotFile
{
    private static ReadOnlySpan<byte> Magic => "KETCHREF"u8;

    public static string Directory(string dataDir) => Path.Combine(dataDir, "member", "snap-in");

    public static string NewPath(string dataDir, ulong index)
    {
        var dir = Directory(dataDir);
        System.IO.Directory.CreateDirectory(dir);
        return Path.Combine(dir, $"{index:x16}-{Guid.NewGuid():N}.kvsnap");
    }

    public static byte[] Reference(string path)
    {
        var name = Encoding.UTF8.GetBytes(Path.GetFileName(path));
        var b = new byte[Magic.Length + name.Length];
        Magic.CopyTo(b);
        name.CopyTo(b, Magic.Length);
        return b;
    }

    /// <summary>The file a snapshot's data refers to, or null when the data is not a reference.</summary>
    public static string? Resolve(string dataDir, ReadOnlySpan<byte> data)
    {
        if (data.Length <= Magic.Length || !data[..Magic.Length].SequenceEqual(Magic))
        {
            return null;
        }
        var name = Encoding.UTF8.GetString(data[Magic.Length..]);
        return name.Contains('/', StringComparison.Ordinal) || name.Contains("..", StringComparison.Ordinal) ? null : Path.Combine(Directory(dataDir), name);
    }

    /// <summary>Deletes the received files of snapshots older than <paramref name="keep"/>'s, once
    /// it is installed. Newer files stay: the transport may have received the next snapshot while
    /// this one was being installed, and the loop has yet to apply it (a chaos run lost such a file
    /// and its member stopped with "Could not find file").</summary>
    public static void DeleteOlder(string dataDir, string keep)
    {
        if (IndexOf(keep) is { } kept)
        {
            DeleteUpTo(dataDir, kept, keep);
        }
    }

    /// <summary>Deletes the received files of snapshots at or below <paramref name="index"/> but
    /// <paramref name="keep"/>. After a local snapshot at the applied index none of them is needed:
    /// one Raft refused (the member had caught up by log meanwhile) would otherwise stay until a
    /// later snapshot is installed, which may never come.</summary>
    public static void DeleteUpTo(string dataDir, ulong index, string? keep = null)
    {
        var dir = Directory(dataDir);
        if (!System.IO.Directory.Exists(dir))
        {
            return;
        }
        foreach (var f in System.IO.Directory.GetFiles(dir))
        {
            if (IndexOf(f) is { } i && i <= index && !string.Equals(f, keep, StringComparison.Ordinal))
            {
                File.Delete(f);
            }
        }
    }

    /// <summary>The snapshot index a received file's name starts with (<see cref="NewPath"/>), or null.</summary>
    private static ulong? IndexOf(string path)
    {
        var name = Path.GetFileName(path);
        return name.Length > 16 && name[16] == '-'
            && ulong.TryParse(name.AsSpan(0, 16), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var index)
            ? index
            : null;
    }
}
