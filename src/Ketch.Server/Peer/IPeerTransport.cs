using Ketch.Raft;

namespace Ketch.Server.Peer;

/// <summary>Carries Raft messages to the other members. Sending never blocks the Raft loop: a
/// message that cannot be queued is dropped and reported unreachable (Raft retries).</summary>
internal interface IPeerTransport : IAsyncDisposable
{
    void Send(IReadOnlyList<Message> messages);

    /// <summary>Sends a snapshot message (metadata only) followed by the store, streamed by
    /// <paramref name="writeStore"/> on the transport's own task; reports the outcome to Raft.</summary>
    void SendSnapshot(Message message, Action<Stream> writeStore);

    void AddPeer(ulong id, IReadOnlyList<string> peerUrls);

    void RemovePeer(ulong id);

    /// <summary>Since when the connections with peer <paramref name="id"/> have been up, both our
    /// stream to it and its stream to us (etcd's <c>Transport.ActiveSince</c>); null while either
    /// is down.</summary>
    DateTimeOffset? ActiveSince(ulong id);
}
