namespace Ketch.Ctl;

/// <summary>Results gathered per endpoint by the <c>endpoint</c> commands.</summary>
internal sealed record EndpointHealth(string Endpoint, bool Health, TimeSpan Took, string Error);

/// <summary>One member's status.</summary>
internal sealed record EndpointStatus(string Endpoint, Ketch.Api.Etcdserverpb.StatusResponse Status);

/// <summary>One member's hash.</summary>
internal sealed record EndpointHash(string Endpoint, Ketch.Api.Etcdserverpb.HashKVResponse Hash);
