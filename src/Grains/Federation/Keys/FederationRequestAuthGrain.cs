using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Identifiers;
using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Federation.Keys;

/// <summary>
/// Authenticates inbound federation requests: every <c>X-Matrix</c> header must parse, name the same origin and
/// this server as destination (or none, for older servers), and carry a signature over the request, body included,
/// that the origin's key verifies. Keys come from the origin's <see cref="IRemoteServerKeysGrain"/>.
/// </summary>
[GrainType("federation-request-auth")]
[StatelessWorker]
public sealed class FederationRequestAuthGrain(LocalServer local, TimeProvider time) : HomeServerGrain, IFederationRequestAuthGrain
{
    public async Task<FederationAuthResult> AuthenticateAsync(InboundFederationRequest request)
    {
        var headers = request.AuthorizationHeaders.Where(XMatrixAuthorization.HasScheme).ToList();
        if (headers.Count == 0) return Unauthorized("Missing X-Matrix Authorization header.");

        var authorizations = new List<XMatrixAuthorization>(headers.Count);
        foreach (var header in headers)
        {
            if (!XMatrixAuthorization.TryParse(header, out var authorization)) return Unauthorized("Malformed X-Matrix Authorization header.");
            authorizations.Add(authorization);
        }
        var origin = authorizations[0].Origin;
        if (authorizations.Any(a => a.Origin != origin)) return Unauthorized("The X-Matrix headers name different origins.");
        if (!ServerName.IsValid(origin)) return Unauthorized("The origin is not a valid server name.");
        if (authorizations.Any(a => a.Destination is not null && a.Destination != local.Name))
            return Unauthorized("The request is for another server.");
        if (origin == local.Name) return Unauthorized("The request claims to come from this server.");

        JsonNode? content = null;
        if (request.Body is { Length: > 0 } body)
        {
            try
            {
                content = JsonNode.Parse(body);
            }
            catch (JsonException)
            {
                return Unauthorized("The request body is not JSON, so no signature can cover it.");
            }
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var keys = GrainFactory.GetGrain<IRemoteServerKeysGrain>(origin);
        foreach (var authorization in authorizations)
        {
            if (await keys.GetVerifyKeyAsync(authorization.Key, now) is not { } publicKey)
                return Unauthorized($"No valid key {authorization.Key} of {origin} could be found.");
            if (!RequestSigning.Verify(authorization, request.Method, request.Uri, local.Name, content, publicKey))
                return Unauthorized($"Invalid signature by {origin} with {authorization.Key}.");
        }
        return new FederationAuthResult(FederationAuthOutcome.Authenticated, origin, "");
    }

    private static FederationAuthResult Unauthorized(string message) => new(FederationAuthOutcome.Unauthorized, null, message);
}
