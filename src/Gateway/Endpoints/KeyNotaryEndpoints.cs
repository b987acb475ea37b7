using System.Buffers;
using System.Text.Json;
using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Grains;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Identifiers;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Orleans;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// The notary endpoints (server-server keys_query.yaml): <c>GET /_matrix/key/v2/query/{serverName}</c> and
/// <c>POST /_matrix/key/v2/query</c> answer with the keys of the servers asked, as each server signed them, with this
/// server's signature added; this server's own keys as it publishes them. A server that cannot be reached and whose
/// keys were never fetched is left out. Unauthenticated, like <c>/_matrix/key/v2/server</c>.
/// </summary>
internal static class KeyNotaryEndpoints
{
    /// <summary>Each server asked may cost a fetch, so one request asks for a bounded number.</summary>
    public const int MaxServersPerQuery = 100;

    public static void MapKeyNotaryEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/_matrix/key/v2/query/{serverName}", QueryOneAsync);
        endpoints.MapPost("/_matrix/key/v2/query", QueryManyAsync).WithBodySize(BodySize.Small);
    }

    private static async Task<IResult> QueryOneAsync(
        HttpContext context, string serverName, [FromServices] IGrainFactory grains, [FromServices] LocalServer local)
    {
        context.RateLimits().RequireForAddress(context, RateLimitBucket.AddressRequests);
        var minimum = Now();
        var given = context.Request.Query["minimum_valid_until_ts"].ToString();
        if (given.Length > 0 && !long.TryParse(given, out minimum))
            throw AccountErrors.InvalidParam("minimum_valid_until_ts must be an integer.");
        var keys = await KeysOfAsync(serverName, minimum, grains, local);
        return Respond(keys is null ? Array.Empty<byte[]>() : [keys]);
    }

    private static async Task<IResult> QueryManyAsync(HttpContext context, [FromServices] IGrainFactory grains, [FromServices] LocalServer local)
    {
        context.RateLimits().RequireForAddress(context, RateLimitBucket.AddressRequests);
        var body = await AccountsJsonBody.ReadObjectAsync(context.Request);
        if (!body.TryGetProperty("server_keys", out var serverKeys) || serverKeys.ValueKind != JsonValueKind.Object)
            throw AccountErrors.MissingParam("server_keys must be an object.");

        var asked = new List<(string Server, long Minimum)>();
        foreach (var server in serverKeys.EnumerateObject())
        {
            if (server.Value.ValueKind != JsonValueKind.Object) throw MatrixException.BadJson($"server_keys.{server.Name} must be an object.");
            // Whatever key ids are asked, the whole answer of the server is returned, valid until the latest minimum asked.
            var minimum = Now();
            foreach (var criteria in server.Value.EnumerateObject())
            {
                if (criteria.Value.ValueKind != JsonValueKind.Object) throw MatrixException.BadJson("Query criteria must be objects.");
                if (criteria.Value.TryGetProperty("minimum_valid_until_ts", out var ts))
                {
                    if (ts.ValueKind != JsonValueKind.Number || !ts.TryGetInt64(out var value))
                        throw MatrixException.BadJson("minimum_valid_until_ts must be an integer.");
                    minimum = Math.Max(minimum, value);
                }
            }
            asked.Add((server.Name, minimum));
        }
        if (asked.Count > MaxServersPerQuery)
            throw AccountErrors.InvalidParam($"At most {MaxServersPerQuery} servers can be asked at once.");

        var answers = await Task.WhenAll(asked.Select(a => KeysOfAsync(a.Server, a.Minimum, grains, local)));
        return Respond(answers.OfType<byte[]>().ToList());
    }

    private static async Task<byte[]?> KeysOfAsync(string serverName, long minimumValidUntilTs, IGrainFactory grains, LocalServer local)
    {
        if (!ServerName.IsValid(serverName)) return null;
        if (serverName == local.Name) return await grains.GetGrain<IServerKeysGrain>("local").GetServerKeysAsync();
        return await grains.GetGrain<IRemoteServerKeysGrain>(serverName).GetNotarisedKeysAsync(minimumValidUntilTs);
    }

    private static IResult Respond(IReadOnlyList<byte[]> keys)
    {
        var output = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("server_keys");
            foreach (var answer in keys) writer.WriteRawValue(answer, skipInputValidation: true);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        return TypedResults.Bytes(output.WrittenSpan.ToArray(), JsonContentType.Utf8);
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
