using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Grains.Rooms.PolicyServers;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Rooms that use a Policy Server (docs/adr/0050-policy-servers.md): this server's events are signed by it before they
/// are appended, and other servers' events without its valid signature are soft-failed.
/// </summary>
public sealed partial class RoomGrain
{
    private PolicyServerSigner PolicyServer => new(ServiceProvider.GetRequiredService<FederationClient>());

    /// <summary>
    /// The writer's hook after each request: in a room using a Policy Server (judged by the state before the request),
    /// each event of a local sender but the policy event itself gets the Policy Server's signature, or the request is
    /// refused with the Policy Server's error and none of its events is appended.
    /// </summary>
    private async Task AddPolicyServerSignaturesAsync(RoomBatchBuilder builder, RoomBatchBuilder.Mark before)
    {
        if (builder.Events.Count == before.Events || RoomPolicy.InEffect(before.State) is not { } policy) return;
        for (var index = before.Events; index < builder.Events.Count; index++)
        {
            var pdu = builder.Events[index].Pdu;
            if (!server.IsLocal(pdu.Sender.Value) || RoomPolicy.IsExempt(pdu)) continue;
            var signature = await PolicyServer.SignAsync(builder.Version, policy, StoredEventJson.PduOf(pdu), CancellationToken.None);
            builder.AddSignature(index, policy.Via, RoomPolicy.KeyId, signature);
        }
    }

    /// <summary>
    /// The last check on a received event (spec: "Checks performed on receipt of a PDU", 7): in a room whose current
    /// state names a Policy Server, an event without its valid signature is asked for one once more (the key may have
    /// rotated since) and, still without, soft-failed: kept aside, never appended nor shown. Returns the event to go
    /// on with (with the new signature, if one was asked for), or null when it was soft-failed.
    /// </summary>
    private async Task<BuiltEvent?> RecommendedByPolicyServerAsync(RoomSnapshot snapshot, BuiltEvent received)
    {
        if (RoomPolicy.InEffect(snapshot.State) is not { } policy || RoomPolicy.IsExempt(received.Pdu)) return received;
        var pdu = JsonNode.Parse(received.Json)!.AsObject();
        if (PolicyServerSigner.IsSigned(snapshot.Version, policy, pdu)) return received;
        try
        {
            var signature = await PolicyServer.SignAsync(snapshot.Version, policy, pdu, CancellationToken.None);
            JsonSigning.AddSignature(pdu, policy.Via, RoomPolicy.KeyId, signature);
            var json = CanonicalJson.Encode(pdu, snapshot.Version.StrictCanonicalJson);
            return new BuiltEvent(received.EventId, json, Pdu.Parse(received.EventId, json));
        }
        catch (MatrixRequestException refused)
        {
            await store.Forks.StoreSoftFailedAsync(new SoftFailedEvent(received.EventId.Value, RoomId, received.Json), Clock(), CancellationToken.None);
            logger.LogInformation("Event {EventId} of {RoomId} soft-failed: the Policy Server {Server} does not recommend it ({Reason})",
                received.EventId, RoomId, policy.Via, refused.Message);
            return null;
        }
    }
}
