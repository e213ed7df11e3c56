using Ketch.Server.Peer;

namespace Ketch.Server.Tests;

/// <summary>The files of received store snapshots (<c>member/snap-in/</c>).</summary>
public sealed class SnapshotFileTests
{
    [Fact]
    public void Installing_a_snapshot_deletes_older_files_and_keeps_a_newer_one_still_to_be_applied()
    {
        using var dir = new TempDir();
        var older = SnapshotFile.NewPath(dir.Path, 2405 - 11);
        var installed = SnapshotFile.NewPath(dir.Path, 2405);
        // Received by the transport while the loop was installing 2405 (seen in ChaosTests).
        var newer = SnapshotFile.NewPath(dir.Path, 2416);
        foreach (var f in new[] { older, installed, newer })
        {
            File.WriteAllText(f, "store");
        }

        SnapshotFile.DeleteOlder(dir.Path, installed);

        Assert.Equal([installed, newer], Directory.GetFiles(SnapshotFile.Directory(dir.Path)).Order(StringComparer.Ordinal));
        Assert.Equal(newer, SnapshotFile.Resolve(dir.Path, SnapshotFile.Reference(newer)));
    }

    [Fact]
    public void A_local_snapshot_deletes_received_files_up_to_its_index()
    {
        using var dir = new TempDir();
        // One Raft refused (the member caught up by log), and one received after the local snapshot's index.
        var refused = SnapshotFile.NewPath(dir.Path, 900);
        var later = SnapshotFile.NewPath(dir.Path, 1201);
        File.WriteAllText(refused, "store");
        File.WriteAllText(later, "store");

        SnapshotFile.DeleteUpTo(dir.Path, 1200);

        Assert.Equal([later], Directory.GetFiles(SnapshotFile.Directory(dir.Path)));
    }
}
