using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using HomeServer.Runtime.Invocation;
using HomeServer.Runtime.Testing;

namespace HomeServer.Runtime.Benchmarks;

/// <summary>
/// The cost of the DispatchProxy grain reference against a hand-written proxy that does what a source generator
/// would emit. "stub" calls an invoker that returns its argument at once, isolating the proxy; "silo" calls the
/// real router of a one-silo cluster (placement, catalog, turn, grain method); "create" is GetGrain.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ProxyBenchmarks
{
    private static readonly GrainInterface Interface = GrainInterface.For(typeof(IBenchGrain));
    private static readonly GrainId Target = new("bench", "g0");

    private TestCluster _cluster = null!;
    private IGrainCallInvoker _siloInvoker = null!;
    private readonly IGrainCallInvoker _stubInvoker = new EchoInvoker();
    private IBenchGrain _stubDispatch = null!, _stubHandWritten = null!, _siloDispatch = null!, _siloHandWritten = null!;
    private int _value;

    [GlobalSetup]
    public void Setup()
    {
        _cluster = TestCluster.StartAsync(1, grains => grains.AddGrain<IBenchGrain, BenchGrain>()).GetAwaiter().GetResult();
        _siloDispatch = _cluster.Silos[0].GetGrain<IBenchGrain>(Target.Key);
        _siloInvoker = (IGrainCallInvoker)typeof(GrainProxy).GetField("_invoker", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(_siloDispatch)!;
        _siloHandWritten = new HandWrittenBenchGrainProxy(Target, _siloInvoker);
        _stubDispatch = (IBenchGrain)GrainProxy.Create(Interface, Target, _stubInvoker);
        _stubHandWritten = new HandWrittenBenchGrainProxy(Target, _stubInvoker);
        _siloDispatch.EchoValueAsync(0).AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => _cluster.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true), BenchmarkCategory("stub ValueTask<int>")]
    public int Stub_ValueTask_DispatchProxy() => _stubDispatch.EchoValueAsync(_value++).Result;

    [Benchmark, BenchmarkCategory("stub ValueTask<int>")]
    public int Stub_ValueTask_HandWritten() => _stubHandWritten.EchoValueAsync(_value++).Result;

    [Benchmark(Baseline = true), BenchmarkCategory("stub Task<int>")]
    public int Stub_Task_DispatchProxy() => _stubDispatch.EchoTaskAsync(_value++).Result;

    [Benchmark, BenchmarkCategory("stub Task<int>")]
    public int Stub_Task_HandWritten() => _stubHandWritten.EchoTaskAsync(_value++).Result;

    [Benchmark(Baseline = true), BenchmarkCategory("silo ValueTask<int>")]
    public int Silo_ValueTask_DispatchProxy() => _siloDispatch.EchoValueAsync(_value++).Result;

    [Benchmark, BenchmarkCategory("silo ValueTask<int>")]
    public int Silo_ValueTask_HandWritten() => _siloHandWritten.EchoValueAsync(_value++).Result;

    [Benchmark(Baseline = true), BenchmarkCategory("create reference")]
    public object Create_DispatchProxy() => GrainProxy.Create(Interface, Target, _stubInvoker);

    [Benchmark, BenchmarkCategory("create reference")]
    public object Create_HandWritten() => new HandWrittenBenchGrainProxy(Target, _stubInvoker);

    /// <summary>The whole of IGrainFactory.GetGrain (interface lookup, GrainId, DispatchProxy) for scale.</summary>
    [Benchmark, BenchmarkCategory("create reference")]
    public object Create_SiloGetGrain() => _cluster.Silos[0].GetGrain<IBenchGrain>(Target.Key);

    private sealed class EchoInvoker : IGrainCallInvoker
    {
        public ValueTask<object?> InvokeAsync(GrainId target, GrainMethod method, object?[] arguments, CancellationToken cancellationToken) =>
            new(arguments[0]);
    }
}
