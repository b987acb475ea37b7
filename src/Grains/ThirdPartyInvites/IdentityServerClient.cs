using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Federation.Transport;
using Microsoft.Extensions.Options;

namespace HomeServer.Grains.ThirdPartyInvites;

/// <summary>What an identity server answered to <c>store-invite</c>: the token and the keys that will sign for the invitee.</summary>
public sealed record StoredInvite(string Token, string DisplayName, IReadOnlyList<(string PublicKey, string KeyValidityUrl)> PublicKeys);

/// <summary>The room's details an identity server is given with a stored invite, for the email it sends.</summary>
public sealed record InviteRoomDetails(
    string RoomId, string Sender, string? SenderDisplayName, string? SenderAvatarUrl,
    string? RoomName, string? RoomAlias, string? RoomAvatarUrl, string? RoomJoinRules, string? RoomType);

/// <summary>
/// The identity service API v2 calls a homeserver makes for third-party invites (<c>hash_details</c>, <c>lookup</c>,
/// <c>store-invite</c>, <c>pubkey/isvalid</c>), always over https, through the connections federation uses (the same
/// address guard and trusted CAs). Failures are <see cref="RemoteServerFailure"/>s: the client sees 502.
/// </summary>
public sealed class IdentityServerClient(HttpClient http, IOptions<FederationTransportOptions> options)
{
    /// <summary>The user id the identity server has bound to the address, or null.</summary>
    public async Task<string?> LookupAsync(string idServer, string accessToken, string medium, string address, CancellationToken cancellationToken)
    {
        var details = await SendAsync(idServer, accessToken, HttpMethod.Get, "/_matrix/identity/v2/hash_details", null, cancellationToken);
        var algorithms = (details["algorithms"] as JsonArray)?.Select(a => a is JsonValue v && v.TryGetValue<string>(out var s) ? s : null).ToList() ?? [];
        var pepper = details["lookup_pepper"] is JsonValue p && p.TryGetValue<string>(out var text) ? text : null;
        string algorithm, lookupAddress;
        if (algorithms.Contains("sha256") && pepper is not null)
        {
            algorithm = "sha256";
            lookupAddress = Base64UrlUnpadded(SHA256.HashData(Encoding.UTF8.GetBytes($"{address} {medium} {pepper}")));
        }
        else if (algorithms.Contains("none"))
        {
            algorithm = "none";
            lookupAddress = $"{address} {medium}";
        }
        else
        {
            throw RemoteServerFailure.Of($"The identity server {idServer} offers no lookup algorithm this server knows.");
        }
        var body = new JsonObject { ["addresses"] = new JsonArray(lookupAddress), ["algorithm"] = algorithm, ["pepper"] = pepper ?? "" };
        var answer = await SendAsync(idServer, accessToken, HttpMethod.Post, "/_matrix/identity/v2/lookup", body, cancellationToken);
        return answer["mappings"]?[lookupAddress] is JsonValue mxid && mxid.TryGetValue<string>(out var userId) ? userId : null;
    }

    public async Task<StoredInvite> StoreInviteAsync(
        string idServer, string accessToken, string medium, string address, InviteRoomDetails room, CancellationToken cancellationToken)
    {
        var body = new JsonObject { ["medium"] = medium, ["address"] = address, ["room_id"] = room.RoomId, ["sender"] = room.Sender };
        AddIfSet(body, "sender_display_name", room.SenderDisplayName);
        AddIfSet(body, "sender_avatar_url", room.SenderAvatarUrl);
        AddIfSet(body, "room_name", room.RoomName);
        AddIfSet(body, "room_alias", room.RoomAlias);
        AddIfSet(body, "room_avatar_url", room.RoomAvatarUrl);
        AddIfSet(body, "room_join_rules", room.RoomJoinRules);
        AddIfSet(body, "room_type", room.RoomType);
        var answer = await SendAsync(idServer, accessToken, HttpMethod.Post, "/_matrix/identity/v2/store-invite", body, cancellationToken);

        var token = StringOf(answer, "token");
        var displayName = StringOf(answer, "display_name");
        var keys = (answer["public_keys"] as JsonArray ?? [])
            .Select(key => (Key: key is JsonObject o ? StringOf(o, "public_key") : null, Url: key is JsonObject u ? StringOf(u, "key_validity_url") : null))
            .Where(key => key.Key is not null && key.Url is not null)
            .Select(key => (key.Key!, key.Url!))
            .ToList();
        if (string.IsNullOrEmpty(token) || displayName is null || keys.Count == 0)
            throw RemoteServerFailure.Of($"The identity server {idServer} stored the invite but its answer lacks a token, display_name or public_keys.");
        return new StoredInvite(token, displayName, keys);
    }

    /// <summary>
    /// Whether the identity server still vouches for the key (<c>GET key_validity_url?public_key=…</c> answering
    /// <c>{"valid": true}</c>). Only https URLs are asked; false for any other answer.
    /// </summary>
    public async Task<bool> IsKeyValidAsync(string keyValidityUrl, string publicKey, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(keyValidityUrl, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttps || url.Query.Length > 0)
            return false;
        var query = new Uri(url, url.AbsolutePath + "?public_key=" + Uri.EscapeDataString(publicKey));
        var answer = await SendAsync(url.Authority, null, HttpMethod.Get, query, null, cancellationToken);
        return answer["valid"] is JsonValue valid && valid.TryGetValue<bool>(out var isValid) && isValid;
    }

    private Task<JsonObject> SendAsync(string idServer, string? accessToken, HttpMethod method, string path, JsonObject? body, CancellationToken cancellationToken)
    {
        if (!IsHostAndPort(idServer)) throw MatrixRequestException.InvalidParam($"'{idServer}' is not an identity server's host name.");
        return SendAsync(idServer, accessToken, method, new Uri($"https://{idServer}{path}"), body, cancellationToken);
    }

    private async Task<JsonObject> SendAsync(string idServer, string? accessToken, HttpMethod method, Uri url, JsonObject? body, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.Value.RequestTimeout);
        try
        {
            using var request = new HttpRequestMessage(method, url);
            if (accessToken is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
            if (body is not null)
                request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
            using var response = await http.SendAsync(request, timeout.Token);
            var text = await response.Content.ReadAsStringAsync(timeout.Token);
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                throw MatrixRequestException.Forbidden($"The identity server {idServer} refused the access token ({(int)response.StatusCode}).");
            if (!response.IsSuccessStatusCode)
                throw RemoteServerFailure.Of($"The identity server {idServer} answered {(int)response.StatusCode}.");
            return JsonNode.Parse(text) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var reason = e is OperationCanceledException ? "timed out" : (e.InnerException ?? e).Message;
            throw RemoteServerFailure.Of($"The identity server {idServer} could not be reached or gave no valid answer: {reason}");
        }
    }

    /// <summary>The spec's server name grammar, loosely: a host (or bracketed IPv6 literal) and an optional port.</summary>
    private static bool IsHostAndPort(string idServer) =>
        idServer.Length is > 0 and <= 255 && idServer.IndexOfAny(['/', '?', '#', '@', '\\', ' ']) < 0
        && Uri.TryCreate($"https://{idServer}/", UriKind.Absolute, out var uri) && uri.AbsolutePath == "/";

    private static string Base64UrlUnpadded(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static void AddIfSet(JsonObject body, string name, string? value)
    {
        if (value is not null) body[name] = value;
    }

    private static string? StringOf(JsonObject json, string name) =>
        json[name] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;
}
