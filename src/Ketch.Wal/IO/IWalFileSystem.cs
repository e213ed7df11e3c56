namespace Ketch.Wal.IO;

/// <summary>
/// The file operations the WAL and the snapshotter use, and nothing more, so that tests can
/// inject faults (failed writes, failed fsync, short writes) and simulate crashes that lose
/// unsynced bytes. <see cref="OsFileSystem"/> is the real one.
/// </summary>
internal interface IWalFileSystem
{
    /// <summary>Opens a file for reading and writing, creating it when asked.</summary>
    IWalFile Open(string path, bool create);

    /// <summary>The whole content of a file.</summary>
    byte[] ReadAll(string path);

    /// <summary>Whether a file exists.</summary>
    bool FileExists(string path);

    /// <summary>The names (not paths) of the files in <paramref name="directory"/>.</summary>
    IReadOnlyList<string> List(string directory);

    /// <summary>Creates a directory (and parents) if missing.</summary>
    void CreateDirectory(string directory);

    /// <summary>Deletes a file; no error when it is already gone.</summary>
    void Delete(string path);

    /// <summary>Renames a file atomically, replacing any file at <paramref name="to"/>.</summary>
    void Rename(string from, string to);

    /// <summary>Makes the directory's entries (creates, renames, deletes) durable.</summary>
    void SyncDirectory(string directory);
}

/// <summary>An open file. Writes are positional; nothing is durable before <see cref="Sync"/>.</summary>
internal interface IWalFile : IDisposable
{
    /// <summary>The file's length in bytes.</summary>
    long Length { get; }

    /// <summary>Sets the length (extending with zeros or truncating).</summary>
    void SetLength(long length);

    /// <summary>Writes all of <paramref name="buffers"/>, in order, starting at <paramref name="offset"/>.
    /// Throws when the write fails; a part may have been written (a short write).</summary>
    void Write(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers);

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/>.</summary>
    void Write(long offset, ReadOnlyMemory<byte> data) => Write(offset, [data]);

    /// <summary>Makes the data written so far durable (fdatasync). Throws when it fails; the
    /// data written since the last successful sync must then be assumed lost.</summary>
    void Sync();

    /// <summary>
    /// Writes <paramref name="buffers"/> at <paramref name="offset"/>, the end of the data in the
    /// file, and makes everything written so far durable; as <see cref="Write(long, IReadOnlyList{ReadOnlyMemory{byte}})"/>
    /// then <see cref="Sync"/>, which is what it does unless the file can do both at once. The free
    /// space after the end may be overwritten with zeros (a WAL segment's free space is zeros).
    /// </summary>
    void Append(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers)
    {
        Write(offset, buffers);
        Sync();
    }
}
