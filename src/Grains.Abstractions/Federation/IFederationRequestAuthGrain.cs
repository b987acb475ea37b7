using Orleans;

namespace HomeServer.Grains.Federation;

/// <summary>What an inbound federation request carries that its signature covers.</summary>
/// <param name="Uri">The request target as received: path and query, still escaped.</param>
/// <param name="AuthorizationHeaders">Every <c>Authorization</c> header of the request.</param>
/// <param name="Body">The request body; null or empty when there is none.</param>
[GenerateSerializer, Alias("hs.InboundFederationRequest")]
public sealed record InboundFederationRequest(string Method, string Uri, IReadOnlyList<string> AuthorizationHeaders, byte[]? Body);

[GenerateSerializer, Alias("hs.FederationAuthOutcome")]
public enum FederationAuthOutcome
{
    Authenticated,

    /// <summary>401 <c>M_UNAUTHORIZED</c>: no, a malformed or a wrong signature, a key that cannot be had, another destination.</summary>
    Unauthorized,
}

/// <param name="Origin">The authenticated origin server, when <see cref="Outcome"/> is Authenticated.</param>
[GenerateSerializer, Alias("hs.FederationAuthResult")]
public sealed record FederationAuthResult(FederationAuthOutcome Outcome, string? Origin, string Message);

/// <summary>Checks the <c>X-Matrix</c> signature of inbound federation requests (a stateless worker on every silo).</summary>
[Alias("federation-request-auth")]
public interface IFederationRequestAuthGrain : IGrainWithStringKey
{
    [Idempotent]
    Task<FederationAuthResult> AuthenticateAsync(InboundFederationRequest request);
}
