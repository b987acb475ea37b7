using System.Text.Json.Serialization;

namespace HomeServer.Gateway.Discovery;

internal sealed record VersionsResponse(
    [property: JsonPropertyName("versions")] IReadOnlyList<string> Versions,
    [property: JsonPropertyName("unstable_features")] IReadOnlyDictionary<string, bool> UnstableFeatures)
{
    public static readonly VersionsResponse Current = new(
        ["v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6", "v1.7", "v1.8", "v1.9", "v1.10", "v1.11", "v1.12"],
        new Dictionary<string, bool>());
}
