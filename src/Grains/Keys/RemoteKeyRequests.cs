using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Federation.Transport;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Keys;

/// <summary>
/// What the servers of the users a client named answered to <c>/user/keys/query</c> or <c>/user/keys/claim</c>: only
/// entries about users that were asked of that server (a server cannot answer for another's users), and one
/// <c>failures</c> entry per server that did not answer in time or answered with an error.
/// </summary>
internal sealed class RemoteKeysAnswer
{
    public Dictionary<string, JsonObject> DeviceKeys { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, JsonObject> MasterKeys { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, JsonObject> SelfSigningKeys { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, JsonObject> OneTimeKeys { get; } = new(StringComparer.Ordinal);

    public SortedDictionary<string, (int Status, string Message)> Failures { get; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Asks the users' own servers for their keys, all servers at once, each bounded by the client's <c>timeout</c>.
/// Nothing a server does (no answer, an error, a malformed body) fails the client's request: it becomes that server's
/// <c>failures</c> entry, as the client-server spec has it.
/// </summary>
internal sealed class RemoteKeyRequests(FederationClient? client, ILogger logger)
{
    public const string QueryPath = "/_matrix/federation/v1/user/keys/query";
    public const string ClaimPath = "/_matrix/federation/v1/user/keys/claim";

    /// <summary>The spec's recommended default for the client's <c>timeout</c>.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Below Orleans' call timeout, so the client always gets an answer with the slow servers in failures.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromSeconds(20);

    /// <summary>The body's <c>timeout</c> in milliseconds, the default when absent, bounded by <see cref="MaxTimeout"/>.</summary>
    public static TimeSpan Timeout(JsonElement body)
    {
        if (!body.TryGetProperty("timeout", out var value) || value.ValueKind != JsonValueKind.Number) return DefaultTimeout;
        var milliseconds = value.GetDouble();
        return milliseconds <= 0 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Min(milliseconds, MaxTimeout.TotalMilliseconds));
    }

    public async Task<RemoteKeysAnswer> QueryAsync(IReadOnlyDictionary<string, HashSet<string>> requested, IEnumerable<string> remoteUsers, TimeSpan timeout)
    {
        var answer = new RemoteKeysAnswer();
        await Task.WhenAll(ByServer(remoteUsers).Select(async group =>
        {
            var body = new JsonObject();
            foreach (var user in group.Users) body[user] = new JsonArray(requested[user].Order(StringComparer.Ordinal).Select(d => (JsonNode)d).ToArray());
            var response = await RequestAsync(group.Server, QueryPath, new JsonObject { ["device_keys"] = body }, timeout, answer);
            if (response is null) return;
            lock (answer)
            {
                foreach (var user in group.Users)
                {
                    if (response["device_keys"]?[user] is JsonObject devices)
                        answer.DeviceKeys[user] = DevicesOf(user, devices, requested[user]);
                    if (CrossSigningKeyOf(user, response["master_keys"]?[user]) is { } master) answer.MasterKeys[user] = master;
                    if (CrossSigningKeyOf(user, response["self_signing_keys"]?[user]) is { } selfSigning) answer.SelfSigningKeys[user] = selfSigning;
                }
            }
        }));
        return answer;
    }

    public async Task<RemoteKeysAnswer> ClaimAsync(IReadOnlyDictionary<string, Dictionary<string, string>> claims, TimeSpan timeout)
    {
        var answer = new RemoteKeysAnswer();
        await Task.WhenAll(ByServer(claims.Keys).Select(async group =>
        {
            var body = new JsonObject();
            foreach (var user in group.Users)
                body[user] = new JsonObject(claims[user].Select(c => KeyValuePair.Create(c.Key, (JsonNode?)c.Value)));
            var response = await RequestAsync(group.Server, ClaimPath, new JsonObject { ["one_time_keys"] = body }, timeout, answer);
            if (response is null) return;
            lock (answer)
            {
                foreach (var user in group.Users)
                {
                    if (response["one_time_keys"]?[user] is not JsonObject devices) continue;
                    var kept = new JsonObject();
                    foreach (var (deviceId, keys) in devices)
                    {
                        if (claims[user].ContainsKey(deviceId) && keys is JsonObject) kept[deviceId] = keys.DeepClone();
                    }
                    if (kept.Count > 0) answer.OneTimeKeys[user] = kept;
                }
            }
        }));
        return answer;
    }

    private static IEnumerable<(string Server, List<string> Users)> ByServer(IEnumerable<string> users) =>
        users.GroupBy(u => Identifiers.UserId.Parse(u).Server.Value, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Order(StringComparer.Ordinal).ToList()));

    /// <summary>The server's answer as an object, or null after recording why there is none.</summary>
    private async Task<JsonObject?> RequestAsync(string server, string path, JsonObject body, TimeSpan timeout, RemoteKeysAnswer answer)
    {
        if (client is null) return Failed(answer, server, 503, "Federation is not available.");
        using var cancellation = new CancellationTokenSource(timeout);
        try
        {
            var response = await client.SendAsync(server, HttpMethod.Post, path, body, cancellation.Token);
            if (!response.IsSuccess) return Failed(answer, server, (int)response.StatusCode, $"The server answered {(int)response.StatusCode}.");
            return JsonNode.Parse(response.Body) as JsonObject ?? Failed(answer, server, 502, "The server's answer is not a JSON object.");
        }
        catch (OperationCanceledException)
        {
            return Failed(answer, server, 504, $"No answer within {timeout.TotalMilliseconds} ms.");
        }
        catch (FederationRequestException exception)
        {
            logger.LogInformation("Key request to {Server} failed: {Reason}", server, exception.Message);
            return Failed(answer, server, 503, "The server could not be reached.");
        }
        catch (JsonException)
        {
            return Failed(answer, server, 502, "The server's answer is not JSON.");
        }
    }

    private static JsonObject? Failed(RemoteKeysAnswer answer, string server, int status, string message)
    {
        lock (answer) answer.Failures[server] = (status, message);
        return null;
    }

    /// <summary>The devices asked for (all when none was named) whose keys name this user and device.</summary>
    private static JsonObject DevicesOf(string userId, JsonObject devices, HashSet<string> wanted)
    {
        var kept = new JsonObject();
        foreach (var (deviceId, keys) in devices)
        {
            if (wanted.Count > 0 && !wanted.Contains(deviceId)) continue;
            if (keys is JsonObject key && key["user_id"] is JsonValue user && user.TryGetValue<string>(out var owner) && owner == userId
                && key["device_id"] is JsonValue device && device.TryGetValue<string>(out var id) && id == deviceId)
                kept[deviceId] = key.DeepClone();
        }
        return kept;
    }

    private static JsonObject? CrossSigningKeyOf(string userId, JsonNode? key) =>
        key is JsonObject value && value["user_id"] is JsonValue user && user.TryGetValue<string>(out var owner) && owner == userId
            ? (JsonObject)value.DeepClone()
            : null;
}
