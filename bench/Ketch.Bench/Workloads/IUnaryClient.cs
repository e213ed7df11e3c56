using Grpc.Core;

namespace Ketch.Bench.Workloads;

/// <summary>One client of a request/response workload: sends one request per call and awaits its reply.</summary>
internal interface IUnaryClient
{
    Task ExecuteAsync(CallOptions call);
}
