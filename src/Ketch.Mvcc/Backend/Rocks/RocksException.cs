namespace Ketch.Mvcc.Backend.Rocks;

/// <summary>A RocksDB call failed; the message is RocksDB's status text (for example
/// <c>IO error: lock ... LOCK: Resource temporarily unavailable</c>).</summary>
internal sealed class RocksException(string message) : IOException(message);
