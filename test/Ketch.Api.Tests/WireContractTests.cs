using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Ketch.Api.Authpb;
using Ketch.Api.Etcdserverpb;
using Ketch.Api.Mvccpb;
using Ketch.Api.V3electionpb;
using Ketch.Api.V3lockpb;
using Xunit;
// v3lockpb.Lock clashes with System.Threading.Lock (implicit usings): alias it.
using LockService = Ketch.Api.V3lockpb.Lock;

namespace Ketch.Api.Tests;

/// <summary>
/// Pins the facts of etcd's v3 wire format that clients depend on, read back from the generated
/// descriptors and stubs: full method paths, field numbers and types, enum values, golden bytes.
/// </summary>
public class WireContractTests
{
    // ---- the whole contract ----------------------------------------------------------------------

    [Fact]
    public void Whole_contract_matches_etcd()
    {
        var expected = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "testdata", "etcd-v3.5.33-contract.txt"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .ToList();
        var actual = ContractLines().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected.Count, actual.Count);
        Assert.Equal(expected, actual);
    }

    /// <summary>Our descriptors in the one-fact-per-line form of testdata/etcd-v3.5.33-contract.txt.</summary>
    private static IEnumerable<string> ContractLines()
    {
        foreach (var file in Files)
        {
            foreach (var service in file.Services)
            {
                foreach (var m in service.Methods)
                {
                    yield return $"S /{service.FullName}/{m.Name} {m.InputType.FullName} -> {m.OutputType.FullName}"
                        + (m.IsClientStreaming ? " client-stream" : "") + (m.IsServerStreaming ? " server-stream" : "");
                }
            }
        }
        foreach (var message in AllMessages())
        {
            yield return $"M {message.FullName}";
            foreach (var f in message.Fields.InDeclarationOrder())
            {
                var typeName = f.FieldType switch
                {
                    FieldType.Message => " " + f.MessageType.FullName,
                    FieldType.Enum => " " + f.EnumType.FullName,
                    _ => "",
                };
                var oneof = f.RealContainingOneof is { } o ? " oneof " + o.Name : "";
                yield return $"F {f.FullName} = {f.FieldNumber} {(f.IsRepeated ? "repeated" : "single")} {f.FieldType}{typeName}{oneof}";
            }
        }
        foreach (var e in AllEnums())
        {
            yield return $"E {e.FullName}";
            foreach (var v in e.Values)
            {
                yield return $"V {e.FullName}.{v.Name} = {v.Number}";
            }
        }
    }

    // ---- services and methods ---------------------------------------------------------------

    /// <summary>Every method etcd 3.5 serves, with its streaming kind.</summary>
    public static TheoryData<string, MethodType> AllMethods => new()
    {
        { "/etcdserverpb.KV/Range", MethodType.Unary },
        { "/etcdserverpb.KV/Put", MethodType.Unary },
        { "/etcdserverpb.KV/DeleteRange", MethodType.Unary },
        { "/etcdserverpb.KV/Txn", MethodType.Unary },
        { "/etcdserverpb.KV/Compact", MethodType.Unary },
        { "/etcdserverpb.Watch/Watch", MethodType.DuplexStreaming },
        { "/etcdserverpb.Lease/LeaseGrant", MethodType.Unary },
        { "/etcdserverpb.Lease/LeaseRevoke", MethodType.Unary },
        { "/etcdserverpb.Lease/LeaseKeepAlive", MethodType.DuplexStreaming },
        { "/etcdserverpb.Lease/LeaseTimeToLive", MethodType.Unary },
        { "/etcdserverpb.Lease/LeaseLeases", MethodType.Unary },
        { "/etcdserverpb.Cluster/MemberAdd", MethodType.Unary },
        { "/etcdserverpb.Cluster/MemberRemove", MethodType.Unary },
        { "/etcdserverpb.Cluster/MemberUpdate", MethodType.Unary },
        { "/etcdserverpb.Cluster/MemberList", MethodType.Unary },
        { "/etcdserverpb.Cluster/MemberPromote", MethodType.Unary },
        { "/etcdserverpb.Maintenance/Alarm", MethodType.Unary },
        { "/etcdserverpb.Maintenance/Status", MethodType.Unary },
        { "/etcdserverpb.Maintenance/Defragment", MethodType.Unary },
        { "/etcdserverpb.Maintenance/Hash", MethodType.Unary },
        { "/etcdserverpb.Maintenance/HashKV", MethodType.Unary },
        { "/etcdserverpb.Maintenance/Snapshot", MethodType.ServerStreaming },
        { "/etcdserverpb.Maintenance/MoveLeader", MethodType.Unary },
        { "/etcdserverpb.Maintenance/Downgrade", MethodType.Unary },
        { "/etcdserverpb.Auth/AuthEnable", MethodType.Unary },
        { "/etcdserverpb.Auth/AuthDisable", MethodType.Unary },
        { "/etcdserverpb.Auth/AuthStatus", MethodType.Unary },
        { "/etcdserverpb.Auth/Authenticate", MethodType.Unary },
        { "/etcdserverpb.Auth/UserAdd", MethodType.Unary },
        { "/etcdserverpb.Auth/UserGet", MethodType.Unary },
        { "/etcdserverpb.Auth/UserList", MethodType.Unary },
        { "/etcdserverpb.Auth/UserDelete", MethodType.Unary },
        { "/etcdserverpb.Auth/UserChangePassword", MethodType.Unary },
        { "/etcdserverpb.Auth/UserGrantRole", MethodType.Unary },
        { "/etcdserverpb.Auth/UserRevokeRole", MethodType.Unary },
        { "/etcdserverpb.Auth/RoleAdd", MethodType.Unary },
        { "/etcdserverpb.Auth/RoleGet", MethodType.Unary },
        { "/etcdserverpb.Auth/RoleList", MethodType.Unary },
        { "/etcdserverpb.Auth/RoleDelete", MethodType.Unary },
        { "/etcdserverpb.Auth/RoleGrantPermission", MethodType.Unary },
        { "/etcdserverpb.Auth/RoleRevokePermission", MethodType.Unary },
        { "/v3electionpb.Election/Campaign", MethodType.Unary },
        { "/v3electionpb.Election/Proclaim", MethodType.Unary },
        { "/v3electionpb.Election/Leader", MethodType.Unary },
        { "/v3electionpb.Election/Observe", MethodType.ServerStreaming },
        { "/v3electionpb.Election/Resign", MethodType.Unary },
        { "/v3lockpb.Lock/Lock", MethodType.Unary },
        { "/v3lockpb.Lock/Unlock", MethodType.Unary },
    };

    [Theory]
    [MemberData(nameof(AllMethods))]
    public void Generated_server_stubs_bind_etcds_method_paths(string path, MethodType type)
    {
        var bound = BoundMethods();
        Assert.True(bound.TryGetValue(path, out var actual), $"no server method bound at {path}");
        Assert.Equal(type, actual);
    }

    [Fact]
    public void No_method_beyond_etcds()
    {
        Assert.Equal(AllMethods.Count, BoundMethods().Count);
    }

    [Fact]
    public void Service_full_names()
    {
        Assert.Equal("etcdserverpb.KV", KV.Descriptor.FullName);
        Assert.Equal("etcdserverpb.Watch", Watch.Descriptor.FullName);
        Assert.Equal("etcdserverpb.Lease", Lease.Descriptor.FullName);
        Assert.Equal("etcdserverpb.Cluster", Cluster.Descriptor.FullName);
        Assert.Equal("etcdserverpb.Maintenance", Maintenance.Descriptor.FullName);
        Assert.Equal("etcdserverpb.Auth", Auth.Descriptor.FullName);
        Assert.Equal("v3electionpb.Election", Election.Descriptor.FullName);
        Assert.Equal("v3lockpb.Lock", LockService.Descriptor.FullName);
    }

    [Fact]
    public void Method_message_types()
    {
        var range = KV.Descriptor.FindMethodByName("Range");
        Assert.Equal("etcdserverpb.RangeRequest", range.InputType.FullName);
        Assert.Equal("etcdserverpb.RangeResponse", range.OutputType.FullName);
        // etcd names the request of Compact "CompactionRequest".
        Assert.Equal("etcdserverpb.CompactionRequest", KV.Descriptor.FindMethodByName("Compact").InputType.FullName);
        // Observe takes a LeaderRequest.
        Assert.Equal("v3electionpb.LeaderRequest", Election.Descriptor.FindMethodByName("Observe").InputType.FullName);
        Assert.Equal("etcdserverpb.ResponseHeader", LockResponse.Descriptor.FindFieldByName("header").MessageType.FullName);
    }

    // ---- fields -------------------------------------------------------------------------------

    public static TheoryData<string, string, int, FieldType> Fields => new()
    {
        { "etcdserverpb.ResponseHeader", "cluster_id", 1, FieldType.UInt64 },
        { "etcdserverpb.ResponseHeader", "member_id", 2, FieldType.UInt64 },
        { "etcdserverpb.ResponseHeader", "revision", 3, FieldType.Int64 },
        { "etcdserverpb.ResponseHeader", "raft_term", 4, FieldType.UInt64 },
        { "etcdserverpb.RangeRequest", "key", 1, FieldType.Bytes },
        { "etcdserverpb.RangeRequest", "range_end", 2, FieldType.Bytes },
        { "etcdserverpb.RangeRequest", "limit", 3, FieldType.Int64 },
        { "etcdserverpb.RangeRequest", "revision", 4, FieldType.Int64 },
        { "etcdserverpb.RangeRequest", "sort_order", 5, FieldType.Enum },
        { "etcdserverpb.RangeRequest", "sort_target", 6, FieldType.Enum },
        { "etcdserverpb.RangeRequest", "serializable", 7, FieldType.Bool },
        { "etcdserverpb.RangeRequest", "keys_only", 8, FieldType.Bool },
        { "etcdserverpb.RangeRequest", "count_only", 9, FieldType.Bool },
        { "etcdserverpb.RangeRequest", "min_mod_revision", 10, FieldType.Int64 },
        { "etcdserverpb.RangeRequest", "max_create_revision", 13, FieldType.Int64 },
        { "etcdserverpb.RangeResponse", "kvs", 2, FieldType.Message },
        { "etcdserverpb.RangeResponse", "more", 3, FieldType.Bool },
        { "etcdserverpb.RangeResponse", "count", 4, FieldType.Int64 },
        { "etcdserverpb.PutRequest", "lease", 3, FieldType.Int64 },
        { "etcdserverpb.PutRequest", "ignore_lease", 6, FieldType.Bool },
        { "etcdserverpb.DeleteRangeResponse", "prev_kvs", 3, FieldType.Message },
        { "etcdserverpb.RequestOp", "request_txn", 4, FieldType.Message },
        { "etcdserverpb.Compare", "key", 3, FieldType.Bytes },
        { "etcdserverpb.Compare", "value", 7, FieldType.Bytes },
        { "etcdserverpb.Compare", "lease", 8, FieldType.Int64 },
        { "etcdserverpb.Compare", "range_end", 64, FieldType.Bytes },
        { "etcdserverpb.CompactionRequest", "physical", 2, FieldType.Bool },
        { "etcdserverpb.HashKVResponse", "hash", 2, FieldType.UInt32 },
        { "etcdserverpb.WatchCreateRequest", "filters", 5, FieldType.Enum },
        { "etcdserverpb.WatchCreateRequest", "watch_id", 7, FieldType.Int64 },
        { "etcdserverpb.WatchCreateRequest", "fragment", 8, FieldType.Bool },
        { "etcdserverpb.WatchResponse", "cancel_reason", 6, FieldType.String },
        { "etcdserverpb.WatchResponse", "fragment", 7, FieldType.Bool },
        { "etcdserverpb.WatchResponse", "events", 11, FieldType.Message },
        { "etcdserverpb.LeaseGrantRequest", "TTL", 1, FieldType.Int64 },
        { "etcdserverpb.LeaseGrantRequest", "ID", 2, FieldType.Int64 },
        { "etcdserverpb.LeaseGrantResponse", "error", 4, FieldType.String },
        { "etcdserverpb.LeaseCheckpoint", "remaining_TTL", 2, FieldType.Int64 },
        { "etcdserverpb.LeaseTimeToLiveResponse", "grantedTTL", 4, FieldType.Int64 },
        { "etcdserverpb.LeaseTimeToLiveResponse", "keys", 5, FieldType.Bytes },
        { "etcdserverpb.Member", "ID", 1, FieldType.UInt64 },
        { "etcdserverpb.Member", "peerURLs", 3, FieldType.String },
        { "etcdserverpb.Member", "clientURLs", 4, FieldType.String },
        { "etcdserverpb.Member", "isLearner", 5, FieldType.Bool },
        { "etcdserverpb.MemberListRequest", "linearizable", 1, FieldType.Bool },
        { "etcdserverpb.StatusResponse", "dbSize", 3, FieldType.Int64 },
        { "etcdserverpb.StatusResponse", "leader", 4, FieldType.UInt64 },
        { "etcdserverpb.StatusResponse", "raftAppliedIndex", 7, FieldType.UInt64 },
        { "etcdserverpb.StatusResponse", "errors", 8, FieldType.String },
        { "etcdserverpb.StatusResponse", "dbSizeInUse", 9, FieldType.Int64 },
        { "etcdserverpb.StatusResponse", "isLearner", 10, FieldType.Bool },
        { "etcdserverpb.AlarmRequest", "memberID", 2, FieldType.UInt64 },
        { "etcdserverpb.AuthUserAddRequest", "hashedPassword", 4, FieldType.String },
        { "etcdserverpb.AuthUserChangePasswordRequest", "hashedPassword", 3, FieldType.String },
        { "etcdserverpb.AuthStatusResponse", "authRevision", 3, FieldType.UInt64 },
        { "mvccpb.KeyValue", "key", 1, FieldType.Bytes },
        { "mvccpb.KeyValue", "create_revision", 2, FieldType.Int64 },
        { "mvccpb.KeyValue", "mod_revision", 3, FieldType.Int64 },
        { "mvccpb.KeyValue", "version", 4, FieldType.Int64 },
        { "mvccpb.KeyValue", "value", 5, FieldType.Bytes },
        { "mvccpb.KeyValue", "lease", 6, FieldType.Int64 },
        { "mvccpb.Event", "type", 1, FieldType.Enum },
        { "mvccpb.Event", "kv", 2, FieldType.Message },
        { "mvccpb.Event", "prev_kv", 3, FieldType.Message },
        { "authpb.User", "options", 4, FieldType.Message },
        { "authpb.Permission", "permType", 1, FieldType.Enum },
        { "authpb.Role", "keyPermission", 2, FieldType.Message },
        { "authpb.UserAddOptions", "no_password", 1, FieldType.Bool },
        { "v3electionpb.LeaderKey", "rev", 3, FieldType.Int64 },
        { "v3electionpb.LeaderKey", "lease", 4, FieldType.Int64 },
        { "v3electionpb.CampaignRequest", "value", 3, FieldType.Bytes },
        { "v3lockpb.LockRequest", "lease", 2, FieldType.Int64 },
        { "v3lockpb.LockResponse", "key", 2, FieldType.Bytes },
    };

    [Theory]
    [MemberData(nameof(Fields))]
    public void Field_number_and_type(string message, string field, int number, FieldType type)
    {
        var descriptor = FindMessage(message);
        var f = descriptor.FindFieldByName(field);
        Assert.NotNull(f);
        Assert.Equal(number, f.FieldNumber);
        Assert.Equal(type, f.FieldType);
    }

    [Fact]
    public void Field_numbers_read_from_the_generated_types()
    {
        Assert.Equal(2, RangeRequest.Descriptor.FindFieldByName("range_end").FieldNumber);
        Assert.Equal(2, RangeRequest.RangeEndFieldNumber);
        Assert.Equal(64, Compare.RangeEndFieldNumber);
        Assert.Equal(11, WatchResponse.EventsFieldNumber);
    }

    [Fact]
    public void Oneofs_group_etcds_union_members()
    {
        Assert.Equal(
            ["version", "create_revision", "mod_revision", "value", "lease"],
            Compare.Descriptor.Oneofs.Single(o => o.Name == "target_union").Fields.Select(f => f.Name));
        Assert.Equal(
            ["create_request", "cancel_request", "progress_request"],
            WatchRequest.Descriptor.Oneofs.Single(o => o.Name == "request_union").Fields.Select(f => f.Name));
        Assert.Equal(
            ["request_range", "request_put", "request_delete_range", "request_txn"],
            RequestOp.Descriptor.Oneofs.Single(o => o.Name == "request").Fields.Select(f => f.Name));
        Assert.Equal(
            ["response_range", "response_put", "response_delete_range", "response_txn"],
            ResponseOp.Descriptor.Oneofs.Single(o => o.Name == "response").Fields.Select(f => f.Name));
    }

    // ---- enums --------------------------------------------------------------------------------

    public static TheoryData<string, string, int> EnumValues => new()
    {
        { "etcdserverpb.AlarmType", "NONE", 0 },
        { "etcdserverpb.AlarmType", "NOSPACE", 1 },
        { "etcdserverpb.AlarmType", "CORRUPT", 2 },
        { "etcdserverpb.AlarmRequest.AlarmAction", "GET", 0 },
        { "etcdserverpb.AlarmRequest.AlarmAction", "ACTIVATE", 1 },
        { "etcdserverpb.AlarmRequest.AlarmAction", "DEACTIVATE", 2 },
        { "etcdserverpb.Compare.CompareResult", "EQUAL", 0 },
        { "etcdserverpb.Compare.CompareResult", "GREATER", 1 },
        { "etcdserverpb.Compare.CompareResult", "LESS", 2 },
        { "etcdserverpb.Compare.CompareResult", "NOT_EQUAL", 3 },
        { "etcdserverpb.Compare.CompareTarget", "VERSION", 0 },
        { "etcdserverpb.Compare.CompareTarget", "CREATE", 1 },
        { "etcdserverpb.Compare.CompareTarget", "MOD", 2 },
        { "etcdserverpb.Compare.CompareTarget", "VALUE", 3 },
        { "etcdserverpb.Compare.CompareTarget", "LEASE", 4 },
        { "etcdserverpb.RangeRequest.SortOrder", "NONE", 0 },
        { "etcdserverpb.RangeRequest.SortOrder", "ASCEND", 1 },
        { "etcdserverpb.RangeRequest.SortOrder", "DESCEND", 2 },
        { "etcdserverpb.RangeRequest.SortTarget", "KEY", 0 },
        { "etcdserverpb.RangeRequest.SortTarget", "VERSION", 1 },
        { "etcdserverpb.RangeRequest.SortTarget", "CREATE", 2 },
        { "etcdserverpb.RangeRequest.SortTarget", "MOD", 3 },
        { "etcdserverpb.RangeRequest.SortTarget", "VALUE", 4 },
        { "etcdserverpb.WatchCreateRequest.FilterType", "NOPUT", 0 },
        { "etcdserverpb.WatchCreateRequest.FilterType", "NODELETE", 1 },
        { "etcdserverpb.DowngradeRequest.DowngradeAction", "VALIDATE", 0 },
        { "etcdserverpb.DowngradeRequest.DowngradeAction", "ENABLE", 1 },
        { "etcdserverpb.DowngradeRequest.DowngradeAction", "CANCEL", 2 },
        { "mvccpb.Event.EventType", "PUT", 0 },
        { "mvccpb.Event.EventType", "DELETE", 1 },
        { "authpb.Permission.Type", "READ", 0 },
        { "authpb.Permission.Type", "WRITE", 1 },
        { "authpb.Permission.Type", "READWRITE", 2 },
    };

    [Theory]
    [MemberData(nameof(EnumValues))]
    public void Enum_value(string enumName, string value, int number)
    {
        var e = FindEnum(enumName);
        var v = e.FindValueByName(value);
        Assert.NotNull(v);
        Assert.Equal(number, v.Number);
    }

    [Fact]
    public void Generated_enums_carry_the_same_numbers()
    {
        Assert.Equal(1, (int)AlarmType.Nospace);
        Assert.Equal(2, (int)AlarmType.Corrupt);
        Assert.Equal(3, (int)Compare.Types.CompareResult.NotEqual);
        Assert.Equal(1, (int)WatchCreateRequest.Types.FilterType.Nodelete);
        Assert.Equal(1, (int)Event.Types.EventType.Delete);
    }

    // ---- golden bytes ---------------------------------------------------------------------------

    [Fact]
    public void RangeRequest_golden_bytes()
    {
        // 0a 03 "foo"   field 1 (key), length-delimited
        // 12 03 "fop"   field 2 (range_end), length-delimited
        // 18 0a         field 3 (limit), varint 10
        // 38 01         field 7 (serializable), varint 1
        const string golden = "0a03666f6f1203666f70180a3801";
        var request = new RangeRequest
        {
            Key = ByteString.CopyFromUtf8("foo"),
            RangeEnd = ByteString.CopyFromUtf8("fop"),
            Limit = 10,
            Serializable = true,
        };
        Assert.Equal(golden, Convert.ToHexStringLower(request.ToByteArray()));
        Assert.Equal(request, RangeRequest.Parser.ParseFrom(Convert.FromHexString(golden)));
    }

    [Fact]
    public void Compare_golden_bytes_with_field_64_and_zero_valued_oneof()
    {
        // 10 02         field 2 (target) = MOD
        // 1a 01 "k"     field 3 (key)
        // 30 00         field 6 (mod_revision) = 0: a set oneof member is sent even when zero
        // 82 04 01 "l"  field 64 (range_end): tag 64<<3|2 = 514 = varint 82 04
        const string golden = "10021a016b30008204016c";
        var compare = new Compare
        {
            Result = Compare.Types.CompareResult.Equal,
            Target = Compare.Types.CompareTarget.Mod,
            Key = ByteString.CopyFromUtf8("k"),
            ModRevision = 0,
            RangeEnd = ByteString.CopyFromUtf8("l"),
        };
        Assert.Equal(golden, Convert.ToHexStringLower(compare.ToByteArray()));
        var parsed = Compare.Parser.ParseFrom(Convert.FromHexString(golden));
        Assert.Equal(Compare.TargetUnionOneofCase.ModRevision, parsed.TargetUnionCase);
    }

    [Fact]
    public void WatchRequest_golden_bytes_with_packed_filters()
    {
        // 0a 06               field 1 (create_request), 6 bytes:
        //   0a 01 "a"         field 1 (key)
        //   2a 01 01          field 5 (filters), packed: [NODELETE]
        const string golden = "0a060a01612a0101";
        var request = new WatchRequest
        {
            CreateRequest = new WatchCreateRequest
            {
                Key = ByteString.CopyFromUtf8("a"),
                Filters = { WatchCreateRequest.Types.FilterType.Nodelete },
            },
        };
        Assert.Equal(golden, Convert.ToHexStringLower(request.ToByteArray()));
    }

    [Fact]
    public void Unpacked_filters_are_accepted_too()
    {
        // The same request with filters sent unpacked (28 01: field 5, varint 1): parsers must take both.
        var parsed = WatchRequest.Parser.ParseFrom(Convert.FromHexString("0a050a01612801"));
        Assert.Equal([WatchCreateRequest.Types.FilterType.Nodelete], parsed.CreateRequest.Filters);
    }

    // ---- namespaces ---------------------------------------------------------------------------

    [Fact]
    public void Csharp_namespaces_are_ours()
    {
        Assert.Equal("Ketch.Api.Etcdserverpb", typeof(RangeRequest).Namespace);
        Assert.Equal("Ketch.Api.Mvccpb", typeof(KeyValue).Namespace);
        Assert.Equal("Ketch.Api.Authpb", typeof(Permission).Namespace);
        Assert.Equal("Ketch.Api.V3electionpb", typeof(LeaderKey).Namespace);
        Assert.Equal("Ketch.Api.V3lockpb", typeof(LockRequest).Namespace);
        Assert.Equal("Ketch.Api.Etcdserverpb", typeof(KV.KVClient).Namespace);
        Assert.Equal("Ketch.Api.Etcdserverpb", typeof(KV.KVBase).Namespace);
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static readonly FileDescriptor[] Files =
    [
        RpcReflection.Descriptor, KvReflection.Descriptor, AuthReflection.Descriptor,
        V3ElectionReflection.Descriptor, V3LockReflection.Descriptor,
    ];

    private static IEnumerable<MessageDescriptor> AllMessages()
    {
        static IEnumerable<MessageDescriptor> Walk(MessageDescriptor m) => m.NestedTypes.SelectMany(Walk).Prepend(m);
        return Files.SelectMany(f => f.MessageTypes).SelectMany(Walk);
    }

    private static MessageDescriptor FindMessage(string fullName) =>
        AllMessages().SingleOrDefault(m => m.FullName == fullName)
        ?? throw new InvalidOperationException($"no message {fullName}");

    private static IEnumerable<EnumDescriptor> AllEnums() =>
        Files.SelectMany(f => f.EnumTypes).Concat(AllMessages().SelectMany(m => m.EnumTypes));

    private static EnumDescriptor FindEnum(string fullName) =>
        AllEnums().SingleOrDefault(e => e.FullName == fullName)
        ?? throw new InvalidOperationException($"no enum {fullName}");

    private static Dictionary<string, MethodType> BoundMethods()
    {
        var binder = new RecordingBinder();
        KV.BindService(binder, null!);
        Watch.BindService(binder, null!);
        Lease.BindService(binder, null!);
        Cluster.BindService(binder, null!);
        Maintenance.BindService(binder, null!);
        Auth.BindService(binder, null!);
        Election.BindService(binder, null!);
        LockService.BindService(binder, null!);
        return binder.Methods;
    }

    /// <summary>Collects what the generated BindService registers.</summary>
    private sealed class RecordingBinder : ServiceBinderBase
    {
        public Dictionary<string, MethodType> Methods { get; } = [];

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            Methods.Add(method.FullName, method.Type);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            Methods.Add(method.FullName, method.Type);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            Methods.Add(method.FullName, method.Type);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            Methods.Add(method.FullName, method.Type);
    }
}
