using HomeServer.Runtime.Invocation;
using HomeServer.Runtime.Messaging;
using Microsoft.Extensions.Logging;

namespace HomeServer.Runtime.Transport;

/// <summary>What every connection of one silo or client shares.</summary>
internal sealed record ConnectionContext(HelloMessage LocalHello, GrainTypeRegistry Registry, WireSerializer Serializer, ILogger Logger)
{
    public string? PeerDescription { get; init; }
}
