using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Storage;

namespace HomeServer.Grains.Federation;

/// <summary>The body of <c>GET /_matrix/key/v2/server</c> (server-server keys_server.yaml).</summary>
public static class ServerKeysResponse
{
    /// <param name="current">The key that signs, published in <c>verify_keys</c>.</param>
    /// <param name="storedKeys">Every stored key; the expired ones other than <paramref name="current"/> go to <c>old_verify_keys</c>.</param>
    public static byte[] Build(ServerSigningKey current, IEnumerable<ServerSigningKeyRecord> storedKeys, long validUntilTs)
    {
        var oldKeys = new JsonObject();
        foreach (var old in storedKeys.Where(k => k.ExpiredTs is not null && k.KeyId != current.KeyId))
        {
            oldKeys[old.KeyId] = new JsonObject
            {
                ["expired_ts"] = old.ExpiredTs!.Value,
                ["key"] = UnpaddedBase64.Encode(old.PublicKey),
            };
        }
        var response = new JsonObject
        {
            ["server_name"] = current.ServerName,
            ["verify_keys"] = new JsonObject { [current.KeyId] = new JsonObject { ["key"] = current.PublicKeyBase64 } },
            ["old_verify_keys"] = oldKeys,
            ["valid_until_ts"] = validUntilTs,
        };
        return CanonicalJson.Encode(JsonSigning.Sign(response, current));
    }
}
