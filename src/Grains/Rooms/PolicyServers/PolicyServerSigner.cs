using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Rooms.PolicyServers;

/// <summary>
/// Asks a room's Policy Server to sign an event (<c>POST /_matrix/policy/v1/sign</c>, a signed federation request)
/// and checks what it answers against the key of the room's <c>m.room.policy</c> event.
/// </summary>
internal sealed class PolicyServerSigner(FederationClient client)
{
    private const string SignPath = "/_matrix/policy/v1/sign";

    /// <summary>True when the event carries a valid signature of the Policy Server.</summary>
    public static bool IsSigned(RoomVersion version, RoomPolicy policy, JsonObject pdu) =>
        EventSigning.Verify(version, pdu, policy.Via, RoomPolicy.KeyId, policy.PublicKey);

    /// <summary>The Policy Server's signature of the event, verified.</summary>
    /// <exception cref="MatrixRequestException">
    /// The Policy Server refused (its own error code and text, which the spec has passed on to the client verbatim),
    /// or could not be asked, or answered without a valid signature (<see cref="RemoteServerFailure"/>).
    /// </exception>
    public async Task<string> SignAsync(RoomVersion version, RoomPolicy policy, JsonObject pdu, CancellationToken cancellationToken)
    {
        FederationResponse response;
        try
        {
            response = await client.SendAsync(policy.Via, HttpMethod.Post, SignPath, pdu.DeepClone(), cancellationToken);
        }
        catch (FederationRequestException e)
        {
            throw RemoteServerFailure.Of($"The room's Policy Server {policy.Via} cannot be reached: {e.Message}");
        }
        JsonNode? answer;
        try
        {
            answer = JsonNode.Parse(response.Body);
        }
        catch (JsonException)
        {
            answer = null;
        }
        if (!response.IsSuccess)
        {
            if (answer?["errcode"] is JsonValue { } code && code.TryGetValue<string>(out var errcode))
                throw new MatrixRequestException(errcode, answer["error"] is JsonValue error && error.TryGetValue<string>(out var text) ? text : "");
            throw RemoteServerFailure.Of($"The room's Policy Server {policy.Via} answered {(int)response.StatusCode}.");
        }
        if (answer?[policy.Via]?[RoomPolicy.KeyId] is not JsonValue value || !value.TryGetValue<string>(out var signature))
            throw RemoteServerFailure.Of($"The room's Policy Server {policy.Via} answered without its signature.");
        var signed = pdu.DeepClone().AsObject();
        JsonSigning.AddSignature(signed, policy.Via, RoomPolicy.KeyId, signature);
        if (!IsSigned(version, policy, signed))
            throw RemoteServerFailure.Of($"The signature of the room's Policy Server {policy.Via} does not verify with the room's key for it.");
        return signature;
    }
}
