using System.Text.Json;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Signing;

namespace HomeServer.Grains.Rooms.PolicyServers;

/// <summary>
/// The Policy Server a room uses (spec 1.18, server-server "Policy Servers"): named by a valid <c>m.room.policy</c>
/// state event with an empty state key (<c>via</c> a string, <c>public_keys.ed25519</c> an unpadded base64 Ed25519
/// key) whose <c>via</c> server has a joined member in the room. Every other event of such a room needs the Policy
/// Server's signature, made with the key of the state event under <see cref="KeyId"/>.
/// </summary>
internal sealed record RoomPolicy(string Via, byte[] PublicKey)
{
    public const string EventType = "m.room.policy";

    /// <summary>The key id a Policy Server always signs with.</summary>
    public const string KeyId = "ed25519:policy_server";

    /// <summary>The Policy Server the state names, or null when the room uses none.</summary>
    public static RoomPolicy? InEffect(IReadOnlyDictionary<StateEventKey, Pdu> state)
    {
        if (state.Get(new StateEventKey(EventType, "")) is not { } policy) return null;
        var content = policy.Content;
        if (!content.TryGetProperty("via", out var via) || via.ValueKind != JsonValueKind.String || via.GetString() is not { Length: > 0 } server
            || !content.TryGetProperty("public_keys", out var keys) || keys.ValueKind != JsonValueKind.Object
            || !keys.TryGetProperty("ed25519", out var ed25519) || ed25519.ValueKind != JsonValueKind.String
            || !UnpaddedBase64.TryDecode(ed25519.GetString(), out var publicKey) || publicKey.Length != 32)
            return null;
        return HasJoinedMember(state, server) ? new RoomPolicy(server, publicKey) : null;
    }

    /// <summary>The policy event itself (empty state key) is never sent to the Policy Server, nor needs its signature.</summary>
    public static bool IsExempt(Pdu pdu) => pdu.Type == EventType && pdu.StateKey == "";

    private static bool HasJoinedMember(IReadOnlyDictionary<StateEventKey, Pdu> state, string server)
    {
        var suffix = ":" + server;
        foreach (var (key, pdu) in state)
        {
            if (key.Type == EventTypes.Member && key.StateKey.EndsWith(suffix, StringComparison.Ordinal)
                && Identifiers.UserId.TryParse(key.StateKey, out var user) && user.Server.ToString() == server
                && state.MembershipOf(key.StateKey) == Membership.Join)
                return true;
        }
        return false;
    }
}
