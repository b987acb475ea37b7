using System.Collections.Concurrent;

namespace HomeServer.Runtime.Messaging;

/// <summary>
/// Recreates an exception thrown on another silo from its type name and message: the same type when it is an
/// exception type loaded here with a (string message) constructor, otherwise <see cref="RemoteGrainException"/>.
/// </summary>
internal static class RemoteExceptions
{
    private static readonly ConcurrentDictionary<string, Func<string, Exception>?> Factories = new();

    public static Exception Recreate(string? typeName, string? message)
    {
        typeName ??= "System.Exception";
        message ??= "";
        var factory = Factories.GetOrAdd(typeName, FindFactory);
        return factory?.Invoke(message) ?? new RemoteGrainException(typeName, message);
    }

    private static Func<string, Exception>? FindFactory(string typeName)
    {
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            var type = assembly.GetType(typeName, throwOnError: false);
            if (type is null || !typeof(Exception).IsAssignableFrom(type) || type.IsAbstract) continue;
            var constructor = type.GetConstructor([typeof(string)]);
            if (constructor is null) continue;
            return message => (Exception)constructor.Invoke([message]);
        }
        return null;
    }
}
