namespace HomeServer.Runtime.Invocation;

internal sealed class GrainFactory(GrainTypeRegistry registry, IGrainCallInvoker invoker) : IGrainFactory
{
    public TGrain GetGrain<TGrain>(string key) where TGrain : IGrain
    {
        ArgumentNullException.ThrowIfNull(key);
        var grainInterface = registry.AddInterface(typeof(TGrain));
        return (TGrain)GrainProxy.Create(grainInterface, new GrainId(grainInterface.Name, key), invoker);
    }
}
