using System.Text.Json.Nodes;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Identifiers;
using Orleans;

namespace HomeServer.Grains.Federation.Invites;

/// <summary>
/// Every server whose signature an event needs (<see cref="EventSigning.RequiredSigners"/>) must have signed it with a
/// key it publishes, valid when the event was sent; other servers' keys come from their keys grains.
/// </summary>
internal static class ReceivedEventSignatures
{
    /// <returns>Null when every required signature verifies, else why not.</returns>
    public static async Task<string?> FailureAsync(IGrainFactory grains, LocalServer local, ServerSigningKey localKey, RoomVersion version, JsonObject pdu)
    {
        var signers = EventSigning.RequiredSigners(version, pdu);
        if (signers is null) return "The event does not name the servers that must sign it.";
        var sentAt = pdu["origin_server_ts"]!.GetValue<long>();
        foreach (var signer in signers)
        {
            if (pdu["signatures"]?[signer] is not JsonObject signatures) return $"The event is not signed by {signer}.";
            var verified = false;
            foreach (var keyId in signatures.Select(entry => entry.Key).Where(k => k.StartsWith(ServerSigningKey.Algorithm + ":", StringComparison.Ordinal)))
            {
                var publicKey = signer == local.Name
                    ? keyId == localKey.KeyId ? localKey.PublicKey : null
                    : await grains.GetGrain<IRemoteServerKeysGrain>(signer).GetVerifyKeyAsync(keyId, sentAt);
                if (publicKey is not null && EventSigning.Verify(version, pdu, signer, keyId, publicKey))
                {
                    verified = true;
                    break;
                }
            }
            if (!verified) return $"The signature of {signer} on the event does not verify.";
        }
        return null;
    }
}
