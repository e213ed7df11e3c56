using System.Globalization;

namespace Ketch.Sim;

/// <summary>The outcome of one run.</summary>
internal sealed record SimResult
{
    /// <summary>What was run.</summary>
    public required SimOptions Options { get; init; }

    /// <summary>The profile the run used.</summary>
    public required FaultProfile Profile { get; init; }

    /// <summary>The property broken, or null when the run passed.</summary>
    public ViolationKind? Violation { get; init; }

    /// <summary>The checker's explanation (empty when passed).</summary>
    public string Message { get; init; } = "";

    /// <summary>The step at which the run ended.</summary>
    public long Step { get; init; }

    /// <summary>The last events before the failure (empty when passed).</summary>
    public string TraceTail { get; init; } = "";

    /// <summary>Counters of what happened, for summaries.</summary>
    public SimStats Stats { get; init; } = new();

    /// <summary>True when every check held.</summary>
    public bool Passed => Violation is null;

    /// <summary>The full failure report: seed, members, profile, replay command, trace tail.</summary>
    public string Report()
    {
        if (Passed)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"seed {Options.Seed} members {Options.Members}: ok ({Stats.Describe()})");
        }
        return string.Create(CultureInfo.InvariantCulture,
            $"""
            VIOLATION {Violation} at step {Step}: {Message}
              seed:    {Options.Seed}
              members: {Options.Members}
              bug:     {Options.PlantedBug}
              profile: {Profile.Describe()}
              stats:   {Stats.Describe()}
              replay:  {Options.ReplayCommand()}
            last events:
            {TraceTail}
            """);
    }
}

/// <summary>What a run did (to see that faults really happen).</summary>
internal sealed class SimStats
{
    /// <summary>Messages handed to the network.</summary>
    public long MessagesSent { get; set; }

    /// <summary>Messages delivered (duplicates included).</summary>
    public long MessagesDelivered { get; set; }

    /// <summary>Messages the network duplicated.</summary>
    public long MessagesDuplicated { get; set; }

    /// <summary>Messages lost (random loss, partitions, down members).</summary>
    public long MessagesDropped { get; set; }

    /// <summary>Crashes (at rest and inside a Ready).</summary>
    public int Crashes { get; set; }

    /// <summary>Crashes inside a Ready.</summary>
    public int CrashesInReady { get; set; }

    /// <summary>Members frozen for a while.</summary>
    public int Pauses { get; set; }

    /// <summary>Partitions started.</summary>
    public int Partitions { get; set; }

    /// <summary>Snapshots taken by members.</summary>
    public int SnapshotsTaken { get; set; }

    /// <summary>Snapshots installed from a leader.</summary>
    public int SnapshotsInstalled { get; set; }

    /// <summary>Proposals made.</summary>
    public int Proposals { get; set; }

    /// <summary>Proposals applied somewhere (acknowledged).</summary>
    public int Acknowledged { get; set; }

    /// <summary>Read indexes requested.</summary>
    public int Reads { get; set; }

    /// <summary>Read indexes answered (checked).</summary>
    public int ReadsAnswered { get; set; }

    /// <summary>Leadership transfers requested.</summary>
    public int Transfers { get; set; }

    /// <summary>Terms with a leader.</summary>
    public int LeaderTerms { get; set; }

    /// <summary>Configuration changes proposed (accepted by the member asked or not).</summary>
    public int ConfChangesProposed { get; set; }

    /// <summary>Configuration-change entries applied anywhere for the first time (each index once).</summary>
    public int ConfChangesApplied { get; set; }

    /// <summary>Of those, changes that entered a joint configuration.</summary>
    public int JointConfigs { get; set; }

    /// <summary>Committed changes that no longer fit the configuration when applied, skipped by
    /// every member alike (etcd's server does the same).</summary>
    public int ConfChangesSkipped { get; set; }

    /// <summary>Brand-new members started (with an empty disk).</summary>
    public int MembersAdded { get; set; }

    /// <summary>Members removed (and later stopped for good).</summary>
    public int MembersRemoved { get; set; }

    /// <summary>Removed members stopped for good.</summary>
    public int MembersRetired { get; set; }

    /// <summary>Snapshots installed by brand-new members on their empty disk (their only way
    /// to learn the configuration).</summary>
    public int NewcomerSnapshots { get; set; }

    /// <summary>The highest index applied anywhere.</summary>
    public ulong AppliedIndex { get; set; }

    /// <summary>Steps the liveness phase needed to converge.</summary>
    public int ConvergenceSteps { get; set; }

    /// <summary>A one-line summary.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"sent {MessagesSent} delivered {MessagesDelivered} duplicated {MessagesDuplicated} dropped {MessagesDropped} crashes {Crashes} (in ready {CrashesInReady}) " +
        $"pauses {Pauses} partitions {Partitions} snapshots {SnapshotsTaken} installed {SnapshotsInstalled} proposals {Proposals} acked {Acknowledged} reads {Reads} answered {ReadsAnswered} transfers {Transfers} " +
        $"leader terms {LeaderTerms} applied {AppliedIndex} converged in {ConvergenceSteps}") +
        (ConfChangesProposed == 0 ? "" : string.Create(CultureInfo.InvariantCulture,
            $" conf changes proposed {ConfChangesProposed} applied {ConfChangesApplied} (joint {JointConfigs}, skipped {ConfChangesSkipped}) members added {MembersAdded} (first snapshots {NewcomerSnapshots}) removed {MembersRemoved} (retired {MembersRetired})"));
}
