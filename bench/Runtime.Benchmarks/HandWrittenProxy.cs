using HomeServer.Runtime.Invocation;

namespace HomeServer.Runtime.Benchmarks;

/// <summary>
/// What a source generator would emit for <see cref="IBenchGrain"/>: the method metadata is looked up once per
/// type, each call packs its arguments and calls the same <see cref="IGrainCallInvoker.InvokeAsync"/> as
/// <see cref="GrainProxy"/>, and completed results are unwrapped without allocating.
/// </summary>
internal sealed class HandWrittenBenchGrainProxy(GrainId target, IGrainCallInvoker invoker) : IBenchGrain
{
    private static readonly GrainInterface Interface = GrainInterface.For(typeof(IBenchGrain));
    private static readonly GrainMethod EchoValue = Interface.GetMethod(nameof(IBenchGrain.EchoValueAsync));
    private static readonly GrainMethod EchoTask = Interface.GetMethod(nameof(IBenchGrain.EchoTaskAsync));

    public ValueTask<int> EchoValueAsync(int value)
    {
        ValueTask<object?> result;
        try
        {
            result = invoker.InvokeAsync(target, EchoValue, [value], CancellationToken.None);
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<int>(ex);
        }
        return result.IsCompletedSuccessfully ? new ValueTask<int>((int)result.Result!) : AwaitAsync(result);
    }

    public Task<int> EchoTaskAsync(int value)
    {
        ValueTask<object?> result;
        try
        {
            result = invoker.InvokeAsync(target, EchoTask, [value], CancellationToken.None);
        }
        catch (Exception ex)
        {
            return Task.FromException<int>(ex);
        }
        return result.IsCompletedSuccessfully ? Task.FromResult((int)result.Result!) : AwaitAsync(result).AsTask();
    }

    private static async ValueTask<int> AwaitAsync(ValueTask<object?> result) => (int)(await result.ConfigureAwait(false))!;

    public override string ToString() => target.ToString();
}
