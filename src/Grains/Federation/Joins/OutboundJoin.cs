using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Federation.Transactions;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Grains.Identifiers;

namespace HomeServer.Grains.Federation.Joins;

/// <summary>
/// A local user's join of a room this server is not in (server-server spec, "Joining rooms"): <c>GET
/// /v1/make_join</c> to each candidate server in turn until one gives a template, which is filled in, hashed and
/// signed, then <c>PUT /v2/send_join</c> to the same server and its answer checked (<see cref="SendJoinAnswer"/>). A
/// server that cannot be reached, refuses, offers an unsupported room version or answers with an invalid room moves
/// the join on to the next; when none succeeds the error names what each one did.
/// </summary>
public sealed class OutboundJoin(FederationClient client, ServerSigningKey key, Func<long> clock)
{
    private static readonly string VersionsQuery = string.Join("&", RoomVersion.Supported.Select(v => "ver=" + Uri.EscapeDataString(v.Id)));

    public Task<JoinedRoomCopy> JoinAsync(
        string roomId, string userId, JsonObject content, IReadOnlyList<string> servers, Func<RoomVersion, JsonObject, Task> verifySignatures) =>
        FirstSuccessAsync(roomId, servers, destination => JoinThroughAsync(destination, roomId, userId, content, verifySignatures));

    /// <summary>
    /// A join of a room this server keeps a copy of but has no member joined in: the resident's template must extend
    /// the copy's newest event, so the join can be appended here as it is there. When the room moved on meanwhile
    /// (this server gets no events while none of its users is joined) it cannot: catching up is not built.
    /// </summary>
    public Task<BuiltEvent> RejoinAsync(
        string roomId, string userId, JsonObject content, IReadOnlyList<string> servers, RoomVersion version, string newestEventId, long depth,
        Func<RoomVersion, JsonObject, Task> verifySignatures) =>
        FirstSuccessAsync(roomId, servers, async destination =>
        {
            var (templateVersion, template) = await MakeJoinAsync(destination, roomId, userId);
            if (templateVersion != version) throw MatrixRequestException.InvalidParam($"make_join named room version {templateVersion.Id}, not {version.Id}.");
            var prev = template["prev_events"] is JsonArray prevs && prevs.Count == 1 ? prevs[0] : null;
            var prevId = prev is JsonArray pair && pair.Count > 0 ? pair[0] : prev;
            var templateDepth = template["depth"] is JsonValue d && d.TryGetValue<long>(out var value) ? value : -1;
            if (prevId is not JsonValue id || id.GetValueKind() != JsonValueKind.String || id.GetValue<string>() != newestEventId || templateDepth != depth + 1)
                throw MatrixRequestException.InvalidParam(
                    "the room moved on since this server's last member left it; joining it again needs the missing events, which this server does not fetch yet");
            var join = Fill(destination, version, roomId, userId, content, template);
            var answer = await SendJoinAsync(destination, roomId, join);
            // The answer's join carries the resident's signature, which a restricted join needs.
            return await SendJoinAnswer.JoinOfAnswerAsync(version, join, answer, verifySignatures);
        });

    private async Task<T> FirstSuccessAsync<T>(string roomId, IReadOnlyList<string> servers, Func<string, Task<T>> attempt)
    {
        var failures = new List<string>();
        MatrixRequestException? refusal = null;
        var allUnknown = true;
        foreach (var destination in servers)
        {
            try
            {
                return await attempt(destination);
            }
            catch (RemoteRefusal e)
            {
                failures.Add($"{destination}: {e.Message}");
                allUnknown &= e.ErrCode == "M_NOT_FOUND";
                // The restricted-room refusals are passed on to clients, as the spec asks.
                if (e.ErrCode is "M_FORBIDDEN" or "M_UNABLE_TO_AUTHORISE_JOIN" or "M_UNABLE_TO_GRANT_JOIN" && refusal is null)
                    refusal = new MatrixRequestException(e.ErrCode, $"{destination} refused the join: {e.Error}");
            }
            catch (MatrixRequestException e)
            {
                failures.Add($"{destination}: {e.Error}");
                allUnknown = false;
            }
            catch (FederationRequestException e)
            {
                failures.Add($"{destination}: unreachable ({e.Message})");
                allUnknown = false;
            }
        }
        // A resident server's own refusal (join rules, a ban) is the answer; servers that all do not know the room make
        // it unknown; otherwise the servers failed.
        var summary = $"Could not join {roomId} through any of its servers: {string.Join("; ", failures)}";
        throw refusal ?? (allUnknown ? MatrixRequestException.NotFound(summary) : RemoteServerFailure.Of(summary));
    }

    private async Task<JoinedRoomCopy> JoinThroughAsync(
        string destination, string roomId, string userId, JsonObject content, Func<RoomVersion, JsonObject, Task> verifySignatures)
    {
        var (version, templateEvent) = await MakeJoinAsync(destination, roomId, userId);
        var join = Fill(destination, version, roomId, userId, content, templateEvent);
        var answer = await SendJoinAsync(destination, roomId, join);
        return await SendJoinAnswer.CheckAsync(version, roomId, join, answer, verifySignatures);
    }

    private async Task<(RoomVersion Version, JsonObject Template)> MakeJoinAsync(string destination, string roomId, string userId)
    {
        var path = $"/_matrix/federation/v1/make_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(userId)}?{VersionsQuery}";
        var template = await client.SendAsync(destination, HttpMethod.Get, path, null, CancellationToken.None);
        var templateBody = RequireSuccess(template, "make_join");
        var versionId = templateBody["room_version"] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : "1";
        if (!RoomVersion.TryGet(versionId, out var version)) throw MatrixRequestException.InvalidParam($"make_join offered the unsupported room version {versionId}.");
        if (templateBody["event"] is not JsonObject templateEvent) throw MatrixRequestException.InvalidParam("make_join gave no event template.");
        return (version, templateEvent);
    }

    private async Task<byte[]> SendJoinAsync(string destination, string roomId, BuiltEvent join)
    {
        var sent = await client.SendAsync(destination, HttpMethod.Put,
            $"/_matrix/federation/v2/send_join/{Uri.EscapeDataString(roomId)}/{Uri.EscapeDataString(join.EventId.Value)}",
            JsonNode.Parse(join.Json), CancellationToken.None);
        if (!sent.IsSuccess) RequireSuccess(sent, "send_join");
        return sent.Body;
    }

    /// <summary>
    /// The join from the template: its room, previous events, auth events and depth as the resident server chose them;
    /// the sender, content, time, hashes and signature this server's. The template must be a join of this user in
    /// this room. In a restricted room the template's <c>join_authorised_via_users_server</c> is kept: it must name a
    /// user of the resident server, which signs the join as its authoriser.
    /// </summary>
    private BuiltEvent Fill(string destination, RoomVersion version, string roomId, string userId, JsonObject content, JsonObject template)
    {
        var pdu = (JsonObject)template.DeepClone();
        if (Text(pdu, "room_id") != roomId || Text(pdu, "type") != EventTypes.Member
            || Text(pdu, "sender") != userId || Text(pdu, "state_key") != userId)
            throw MatrixRequestException.InvalidParam("make_join gave a template that is not this user's join of this room.");
        foreach (var key in (string[])["signatures", "hashes", "unsigned", "event_id"]) pdu.Remove(key);
        var filled = (JsonObject)content.DeepClone();
        if (version.RestrictedJoinRule && pdu["content"] is JsonObject templateContent && templateContent["join_authorised_via_users_server"] is { } authoriser)
        {
            if (authoriser is not JsonValue value || value.GetValueKind() != JsonValueKind.String
                || !UserId.TryParse(value.GetValue<string>(), out var authorisingUser) || authorisingUser.Server.ToString() != destination)
                throw MatrixRequestException.InvalidParam("make_join named an authorising user who is not of the server that answered.");
            filled["join_authorised_via_users_server"] = value.GetValue<string>();
        }
        pdu["content"] = filled;
        pdu["origin"] = key.ServerName;
        pdu["origin_server_ts"] = clock();
        // In room versions 1 and 2 the event id is the sending server's to choose.
        if (version.EventIdInEvent) pdu["event_id"] = $"${UnpaddedBase64.Encode(RandomNumberGenerator.GetBytes(12))}:{key.ServerName}";
        try
        {
            pdu["hashes"] = new JsonObject { ["sha256"] = EventHashing.EncodeUnpaddedBase64(EventHashing.ComputeContentHash(pdu, version.StrictCanonicalJson)) };
            pdu["signatures"] = new JsonObject();
            EventSigning.Sign(version, pdu, key);
            PduFormat.Check(version, pdu);
        }
        catch (CanonicalJsonException e)
        {
            throw MatrixRequestException.InvalidParam($"make_join gave a template that cannot be signed: {e.Message}");
        }
        var eventId = EventHashing.ComputeEventId(version, pdu);
        var json = CanonicalJson.Encode(pdu, version.StrictCanonicalJson);
        return new BuiltEvent(eventId, json, Pdu.Parse(eventId, json));
    }

    private static JsonObject RequireSuccess(FederationResponse response, string request)
    {
        JsonObject? body = null;
        try
        {
            body = JsonNode.Parse(response.Body) as JsonObject;
        }
        catch (JsonException)
        {
        }
        if (response.IsSuccess) return body ?? throw MatrixRequestException.InvalidParam($"{request} answered with no JSON object.");
        var errcode = body is not null ? Text(body, "errcode") : null;
        var error = body is not null ? Text(body, "error") : null;
        throw new RemoteRefusal(errcode ?? (response.StatusCode == HttpStatusCode.NotFound ? "M_NOT_FOUND" : "M_UNKNOWN"),
            $"{request} answered {(int)response.StatusCode}{(errcode is null ? "" : " " + errcode)}{(error is null ? "" : ": " + error)}");
    }

    private static string? Text(JsonObject json, string key) =>
        json[key] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    /// <summary>An error answer of the resident server (its errcode, and the whole answer as text).</summary>
    private sealed class RemoteRefusal(string errcode, string text) : Exception(text)
    {
        public string ErrCode { get; } = errcode;

        public string Error => Message;
    }
}
