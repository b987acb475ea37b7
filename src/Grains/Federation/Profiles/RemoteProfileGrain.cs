using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Accounts;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Grains.Identifiers;
using Orleans;

namespace HomeServer.Grains.Federation.Profiles;

/// <summary>
/// Asks the user's server for the profile and keeps the answer (also "no such user") for <see cref="KeptFor"/>: clients
/// ask for the same profile many times while a room's member list is shown. Calls are not interleaved, so requests that
/// arrive together cause one request to the other server.
/// </summary>
[GrainType("remote-profile")]
public sealed class RemoteProfileGrain(FederationClient client, TimeProvider time) : HomeServerGrain, IRemoteProfileGrain
{
    public static readonly TimeSpan KeptFor = TimeSpan.FromMinutes(1);

    private (UserProfile? Profile, DateTimeOffset At)? _kept;

    public async Task<UserProfile?> GetAsync()
    {
        if (_kept is { } kept && time.GetUtcNow() - kept.At < KeptFor) return kept.Profile;
        var profile = await AskAsync();
        _kept = (profile, time.GetUtcNow());
        return profile;
    }

    private async Task<UserProfile?> AskAsync()
    {
        var userId = UserId.Parse(this.GetPrimaryKeyString());
        FederationResponse response;
        try
        {
            response = await client.SendAsync(userId.Server.ToString(), HttpMethod.Get,
                $"/_matrix/federation/v1/query/profile?user_id={Uri.EscapeDataString(userId.ToString())}", null, CancellationToken.None);
        }
        catch (FederationRequestException e)
        {
            throw RemoteServerFailure.Of($"The server of {userId} could not be reached: {e.Message}");
        }
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        JsonObject? body = null;
        try
        {
            if (response.IsSuccess) body = JsonNode.Parse(response.Body) as JsonObject;
        }
        catch (JsonException)
        {
        }
        if (body is null) throw RemoteServerFailure.Of($"The server of {userId} gave no valid profile ({(int)response.StatusCode}).");
        return new UserProfile(Text(body, "displayname"), Text(body, "avatar_url"));
    }

    private static string? Text(JsonObject body, string key) =>
        body[key] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
}
