using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Signing;

namespace HomeServer.Grains.Tests.Federation;

/// <summary>A fixed signing key per server name (its seed derived from the name), for tests that build events.</summary>
public static class TestSigningKeys
{
    private static readonly ConcurrentDictionary<string, ServerSigningKey> Keys = new(StringComparer.Ordinal);

    public static ServerSigningKey For(string serverName) =>
        Keys.GetOrAdd(serverName, name => ServerSigningKey.FromSeed(name, "ed25519:test", SHA256.HashData(Encoding.UTF8.GetBytes(name))));

    /// <summary>Builds the event signed by the key of its sender's server.</summary>
    public static BuiltEvent Build(EventDraft draft) => EventBuilder.Build(draft, For(draft.Sender.Server.ToString()));
}
