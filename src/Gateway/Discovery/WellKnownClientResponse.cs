using System.Text.Json.Serialization;

namespace HomeServer.Gateway.Discovery;

internal sealed record WellKnownClientResponse(
    [property: JsonPropertyName("m.homeserver")] HomeServerInformation HomeServer);

internal sealed record HomeServerInformation(
    [property: JsonPropertyName("base_url")] string BaseUrl);
