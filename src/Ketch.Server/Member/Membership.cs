using System.Buffers.Binary;
using System.Text.Json;
using Ketch.Api.Etcdserverpb;
using Ketch.Mvcc;
using Ketch.Mvcc.Backend;

namespace Ketch.Server.Member;

/// <summary>
/// The cluster's members and alarms, changed only by applying Raft entries (conf changes, alarm
/// requests) and saved in the Members bucket in the same batch as the entry's consistent index.
/// </summary>
internal sealed class Membership
{
    private static readonly byte[] s_alarmsKey = "alarms"u8.ToArray();
    private static readonly byte[] s_removedPrefix = "removed/"u8.ToArray();
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, MemberInfo> _members = [];
    private readonly HashSet<ulong> _removed = [];
    private readonly HashSet<(ulong Member, AlarmType Alarm)> _alarms = [];

    public ulong ClusterId { get; set; }

    public IReadOnlyList<MemberInfo> Members
    {
        get
        {
            lock (_lock)
            {
                return [.. _members.Values.OrderBy(m => m.Id)];
            }
        }
    }

    public MemberInfo? Get(ulong id)
    {
        lock (_lock)
        {
            return _members.GetValueOrDefault(id);
        }
    }

    public void Recover(KvStore kv)
    {
        lock (_lock)
        {
            _members.Clear();
            _alarms.Clear();
            _removed.Clear();
            foreach (var (key, value) in kv.ReadBucket(BackendBucket.Members))
            {
                if (key.AsSpan().SequenceEqual(s_alarmsKey))
                {
                    for (var i = 0; i + 9 <= value.Length; i += 9)
                    {
                        _alarms.Add((BinaryPrimitives.ReadUInt64BigEndian(value.AsSpan(i)), (AlarmType)value[i + 8]));
                    }
                }
                else if (key.Length == s_removedPrefix.Length + 8 && key.AsSpan().StartsWith(s_removedPrefix))
                {
                    _removed.Add(BinaryPrimitives.ReadUInt64BigEndian(key.AsSpan(s_removedPrefix.Length)));
                }
                else if (key.Length == 8)
                {
                    var m = JsonSerializer.Deserialize<MemberInfo>(value);
                    if (m is not null)
                    {
                        _members[m.Id] = m;
                    }
                }
            }
        }
    }

    public void Set(KvStore kv, MemberInfo member)
    {
        lock (_lock)
        {
            _members[member.Id] = member;
            kv.PutBucketValue(BackendBucket.Members, Key(member.Id), JsonSerializer.SerializeToUtf8Bytes(member));
        }
    }

    public void Remove(KvStore kv, ulong id)
    {
        lock (_lock)
        {
            _members.Remove(id);
            kv.DeleteBucketValue(BackendBucket.Members, Key(id));
            // Remembered for good, as etcd does: ids derive from peer URLs, token and the second
            // of the add, so re-adding a URL at once would bring a removed id back.
            _removed.Add(id);
            var key = new byte[s_removedPrefix.Length + 8];
            s_removedPrefix.CopyTo(key, 0);
            BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(s_removedPrefix.Length), id);
            kv.PutBucketValue(BackendBucket.Members, key, [1]);
        }
    }

    /// <summary>Whether <paramref name="id"/> belonged to a member that was removed.</summary>
    public bool IsRemoved(ulong id)
    {
        lock (_lock)
        {
            return _removed.Contains(id);
        }
    }

    /// <summary>Updates a member's client URLs/name locally (published attributes, not replicated).</summary>
    public void SetLocalAttributes(ulong id, string name, IReadOnlyList<string> clientUrls)
    {
        lock (_lock)
        {
            if (_members.TryGetValue(id, out var m))
            {
                _members[id] = m with { Name = name, ClientUrls = clientUrls };
            }
        }
    }

    public IReadOnlyList<AlarmMember> Alarms
    {
        get
        {
            lock (_lock)
            {
                return [.. _alarms.OrderBy(a => a.Member).Select(a => new AlarmMember { MemberID = a.Member, Alarm = a.Alarm })];
            }
        }
    }

    public bool HasAlarm(AlarmType type)
    {
        lock (_lock)
        {
            return _alarms.Any(a => a.Alarm == type);
        }
    }

    public void Activate(KvStore kv, ulong member, AlarmType type)
    {
        lock (_lock)
        {
            _alarms.Add((member, type));
            SaveAlarms(kv);
        }
    }

    public void Deactivate(KvStore kv, ulong member, AlarmType type)
    {
        lock (_lock)
        {
            _alarms.RemoveWhere(a => (member == 0 || a.Member == member) && (type == AlarmType.None || a.Alarm == type));
            SaveAlarms(kv);
        }
    }

    private void SaveAlarms(KvStore kv)
    {
        var value = new byte[_alarms.Count * 9];
        var i = 0;
        foreach (var (m, a) in _alarms)
        {
            BinaryPrimitives.WriteUInt64BigEndian(value.AsSpan(i), m);
            value[i + 8] = (byte)a;
            i += 9;
        }
        kv.PutBucketValue(BackendBucket.Members, s_alarmsKey, value);
    }

    private static byte[] Key(ulong id)
    {
        var k = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(k, id);
        return k;
    }
}
