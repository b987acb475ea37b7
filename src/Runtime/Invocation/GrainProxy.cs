using System.Reflection;

namespace HomeServer.Runtime.Invocation;

/// <summary>
/// Runtime-generated implementation of a grain interface (see docs/adr/0002): each call becomes one
/// <see cref="IGrainCallInvoker.InvokeAsync"/> with the method's precomputed metadata.
/// </summary>
public class GrainProxy : DispatchProxy
{
    private GrainId _target;
    private GrainInterface _interface = null!;
    private IGrainCallInvoker _invoker = null!;

    internal static object Create(GrainInterface grainInterface, GrainId target, IGrainCallInvoker invoker)
    {
        var proxy = (GrainProxy)DispatchProxy.Create(grainInterface.Type, typeof(GrainProxy));
        proxy._target = target;
        proxy._interface = grainInterface;
        proxy._invoker = invoker;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var method = _interface.MethodsByInfo[targetMethod!];
        args ??= [];
        var cancellationToken = method.CancellationTokenIndex >= 0
            ? (CancellationToken)args[method.CancellationTokenIndex]!
            : CancellationToken.None;
        ValueTask<object?> result;
        try
        {
            result = _invoker.InvokeAsync(_target, method, args, cancellationToken);
        }
        catch (Exception ex)
        {
            result = ValueTask.FromException<object?>(ex);
        }
        return method.WrapResult(result);
    }

    public override string ToString() => _target.ToString();
}
