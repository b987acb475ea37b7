using System.Reflection;

namespace HomeServer.Runtime.Invocation;

/// <summary>Conversions between the four awaitable return shapes of grain methods and the runtime's untyped ValueTask.</summary>
internal static class AsyncShapes
{
    public static (Type? ResultType, Func<ValueTask<object?>, object> Wrap)? ForReturnType(Type returnType)
    {
        if (returnType == typeof(Task)) return (null, vt => AsTask(vt));
        if (returnType == typeof(ValueTask)) return (null, vt => AsValueTask(vt));
        if (!returnType.IsGenericType) return null;
        var definition = returnType.GetGenericTypeDefinition();
        var result = returnType.GetGenericArguments()[0];
        var name = definition == typeof(Task<>) ? nameof(AsTaskOf)
            : definition == typeof(ValueTask<>) ? nameof(AsValueTaskOf)
            : null;
        if (name is null) return null;
        var wrap = typeof(AsyncShapes).GetMethod(name, BindingFlags.Static | BindingFlags.NonPublic)!
            .MakeGenericMethod(result)
            .CreateDelegate<Func<ValueTask<object?>, object>>();
        return (result, wrap);
    }

    /// <summary>The static method that turns the grain method's own return value into ValueTask&lt;object?&gt;.</summary>
    public static MethodInfo UntypedAdapter(Type returnType)
    {
        var flags = BindingFlags.Static | BindingFlags.NonPublic;
        if (returnType == typeof(Task)) return typeof(AsyncShapes).GetMethod(nameof(FromTask), flags)!;
        if (returnType == typeof(ValueTask)) return typeof(AsyncShapes).GetMethod(nameof(FromValueTask), flags)!;
        var definition = returnType.GetGenericTypeDefinition();
        var name = definition == typeof(Task<>) ? nameof(FromTaskOf) : nameof(FromValueTaskOf);
        return typeof(AsyncShapes).GetMethod(name, flags)!.MakeGenericMethod(returnType.GetGenericArguments()[0]);
    }

    private static ValueTask<object?> FromTask(Task task)
    {
        if (task.IsCompletedSuccessfully) return new ValueTask<object?>((object?)null);
        return Await(task);

        static async ValueTask<object?> Await(Task t)
        {
            await t.ConfigureAwait(false);
            return null;
        }
    }

    private static ValueTask<object?> FromValueTask(ValueTask task) =>
        task.IsCompletedSuccessfully ? new ValueTask<object?>((object?)null) : FromTask(task.AsTask());

    private static ValueTask<object?> FromTaskOf<T>(Task<T> task)
    {
        if (task.IsCompletedSuccessfully) return new ValueTask<object?>(task.Result);
        return Await(task);

        static async ValueTask<object?> Await(Task<T> t) => await t.ConfigureAwait(false);
    }

    private static ValueTask<object?> FromValueTaskOf<T>(ValueTask<T> task) =>
        task.IsCompletedSuccessfully ? new ValueTask<object?>(task.Result) : FromTaskOf(task.AsTask());

    private static Task AsTask(ValueTask<object?> result)
    {
        if (result.IsCompletedSuccessfully) return Task.CompletedTask;
        return Await(result);

        static async Task Await(ValueTask<object?> r) => await r.ConfigureAwait(false);
    }

    private static object AsValueTask(ValueTask<object?> result) =>
        result.IsCompletedSuccessfully ? default(ValueTask) : new ValueTask(AsTask(result));

    private static object AsTaskOf<T>(ValueTask<object?> result)
    {
        if (result.IsCompletedSuccessfully) return Task.FromResult((T)result.Result!);
        return Await(result);

        static async Task<T> Await(ValueTask<object?> r) => (T)(await r.ConfigureAwait(false))!;
    }

    private static object AsValueTaskOf<T>(ValueTask<object?> result)
    {
        if (result.IsCompletedSuccessfully) return new ValueTask<T>((T)result.Result!);
        return new ValueTask<T>((Task<T>)AsTaskOf<T>(result));
    }
}
