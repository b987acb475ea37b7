using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace HomeServer.Runtime.Messaging;

/// <summary>
/// JSON options for arguments and results of remote calls. Source-generated contexts registered with
/// <see cref="AddContext"/> are consulted first; anything else falls back to reflection.
/// </summary>
public sealed class WireSerializer
{
    private readonly List<IJsonTypeInfoResolver> _contexts = [];
    private JsonSerializerOptions? _options;

    public WireSerializer AddContext(JsonSerializerContext context)
    {
        if (_options is not null) throw new InvalidOperationException("Contexts must be added before the first remote call.");
        _contexts.Add(context);
        return this;
    }

    public JsonSerializerOptions Options => _options ??= Build();

    private JsonSerializerOptions Build()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.General)
        {
            TypeInfoResolver = JsonTypeInfoResolver.Combine([.. _contexts, new DefaultJsonTypeInfoResolver()]),
        };
        options.MakeReadOnly();
        return options;
    }
}
