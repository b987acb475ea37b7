using System.Linq.Expressions;
using System.Reflection;

namespace HomeServer.Runtime.Invocation;

/// <summary>Everything the runtime needs to call one grain interface method, computed once per method.</summary>
internal sealed class GrainMethod
{
    public GrainMethod(GrainInterface owner, MethodInfo method)
    {
        Interface = owner;
        Method = method;
        Name = method.Name;
        var parameters = method.GetParameters();
        ParameterTypes = parameters.Select(p => p.ParameterType).ToArray();
        CancellationTokenIndex = Array.FindIndex(ParameterTypes, t => t == typeof(CancellationToken));
        IsInterleaving = method.IsDefined(typeof(AlwaysInterleaveAttribute), inherit: false);
        IsIdempotent = method.IsDefined(typeof(IdempotentAttribute), inherit: false);
        (ResultType, WrapResult) = AsyncShapes.ForReturnType(method.ReturnType)
            ?? throw new ArgumentException(
                $"Grain method {owner.Name}.{method.Name} must return Task, Task<T>, ValueTask or ValueTask<T>, not {method.ReturnType}.");
        Invoke = BuildInvoker(method, ParameterTypes);
    }

    public GrainInterface Interface { get; }
    public MethodInfo Method { get; }
    public string Name { get; }
    public Type[] ParameterTypes { get; }

    /// <summary>Index of the CancellationToken parameter, or -1. That token is never serialised: the runtime supplies one.</summary>
    public int CancellationTokenIndex { get; }
    public bool IsInterleaving { get; }
    public bool IsIdempotent { get; }

    /// <summary>The T of Task&lt;T&gt; / ValueTask&lt;T&gt;, or null for Task / ValueTask.</summary>
    public Type? ResultType { get; }

    /// <summary>Turns the runtime's untyped result into the method's declared return type (used by proxies).</summary>
    public Func<ValueTask<object?>, object> WrapResult { get; }

    /// <summary>Calls the method on a grain instance and returns its result untyped.</summary>
    public Func<object, object?[], ValueTask<object?>> Invoke { get; }

    public override string ToString() => $"{Interface.Name}.{Name}";

    private static Func<object, object?[], ValueTask<object?>> BuildInvoker(MethodInfo method, Type[] parameterTypes)
    {
        var grain = Expression.Parameter(typeof(object), "grain");
        var args = Expression.Parameter(typeof(object?[]), "args");
        var arguments = parameterTypes.Select((type, i) =>
            (Expression)Expression.Convert(Expression.ArrayIndex(args, Expression.Constant(i)), type));
        var call = Expression.Call(Expression.Convert(grain, method.DeclaringType!), method, arguments);
        var adapter = AsyncShapes.UntypedAdapter(method.ReturnType);
        var body = Expression.Call(adapter, call);
        return Expression.Lambda<Func<object, object?[], ValueTask<object?>>>(body, grain, args).Compile();
    }
}
