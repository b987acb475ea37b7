using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using HomeServer.Grains.Federation.Signing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.Federation;

/// <summary>A third-party invite the identity server stored: what the homeserver sent and the token it got.</summary>
public sealed record StoredThirdPartyInvite(string Token, string Medium, string Address, string RoomId, string Sender, JsonObject Request);

/// <summary>
/// A stand-in identity server (identity service API v2) over HTTPS with the test CA's certificate: <c>hash_details</c>,
/// <c>lookup</c> (sha256 with a pepper, or only <c>none</c>), <c>store-invite</c> and <c>pubkey/isvalid</c>, each but
/// the last requiring its access token. It signs the <c>signed</c> objects of pending invites with its own Ed25519
/// key, as a real one does when an address is bound, and can tell a homeserver so through <c>/3pid/onbind</c>.
/// </summary>
public sealed class FakeIdentityServer : IAsyncDisposable
{
    public const string AccessToken = "identity-access-token";
    private const string Pepper = "matrixrocks";

    private readonly ConcurrentDictionary<string, string> _bindings = new(); // "address medium" -> mxid
    private readonly ConcurrentQueue<StoredThirdPartyInvite> _invites = new();
    private readonly ConcurrentQueue<string> _lookupAlgorithms = new();
    private readonly bool _sha256;
    private WebApplication _app = null!;

    private FakeIdentityServer(bool sha256) => _sha256 = sha256;

    /// <summary>The identity server's name as homeservers are given it (<c>id_server</c>): <c>127.0.0.1:port</c>.</summary>
    public string Name { get; private set; } = "";

    public ServerSigningKey Key { get; private set; } = null!;

    /// <summary>Once revoked, <c>pubkey/isvalid</c> answers false for the key.</summary>
    public bool KeyRevoked { get; set; }

    public IReadOnlyCollection<StoredThirdPartyInvite> Invites => _invites;

    public IReadOnlyCollection<string> LookupAlgorithms => _lookupAlgorithms;

    public string KeyValidityUrl => $"https://{Name}/_matrix/identity/v2/pubkey/isvalid";

    /// <param name="sha256">False: the server offers only the <c>none</c> lookup algorithm.</param>
    public static async Task<FakeIdentityServer> StartAsync(TestCertificateAuthority authority, bool sha256 = true)
    {
        var server = new FakeIdentityServer(sha256);
        var builder = WebApplication.CreateSlimBuilder();
        var certificate = X509Certificate2.CreateFromPemFile(authority.ServerCertificatePath, authority.ServerKeyPath);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        // Cast: a method returning Task<IResult> would otherwise bind as a RequestDelegate and answer an empty body.
        app.MapGet("/_matrix/identity/v2/hash_details", (Delegate)server.HashDetails);
        app.MapPost("/_matrix/identity/v2/lookup", (Delegate)server.LookupAsync);
        app.MapPost("/_matrix/identity/v2/store-invite", (Delegate)server.StoreInviteAsync);
        app.MapGet("/_matrix/identity/v2/pubkey/isvalid", (HttpContext context) =>
            Results.Json(new { valid = !server.KeyRevoked && context.Request.Query["public_key"] == server.Key.PublicKeyBase64 }));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.Name = $"127.0.0.1:{new Uri(address).Port}";
        server.Key = ServerSigningKey.FromSeed(server.Name, "ed25519:0", RandomNumberGenerator.GetBytes(ServerSigningKey.SeedBytes));
        server._app = app;
        return server;
    }

    /// <summary>Binds the address to the user for lookups (without telling any homeserver).</summary>
    public void Bind(string medium, string address, string mxid) => _bindings[$"{address} {medium}"] = mxid;

    /// <summary>The <c>signed</c> object for a pending invite's token, signed with this server's key.</summary>
    public JsonObject Sign(string mxid, string token, string? sender = null)
    {
        var signed = new JsonObject { ["mxid"] = mxid, ["token"] = token };
        if (sender is not null) signed["sender"] = sender;
        return JsonSigning.Sign(signed, Key);
    }

    /// <summary>
    /// Binds the address and tells the user's homeserver (<c>PUT /_matrix/federation/v1/3pid/onbind</c>) of the
    /// invites pending for it, each with its signed object.
    /// </summary>
    public async Task<HttpResponseMessage> BindAndNotifyAsync(HttpClient homeserver, string medium, string address, string mxid)
    {
        Bind(medium, address, mxid);
        var invites = new JsonArray(_invites.Where(i => i.Medium == medium && i.Address == address).Select(i => (JsonNode)new JsonObject
        {
            ["medium"] = medium,
            ["address"] = address,
            ["mxid"] = mxid,
            ["room_id"] = i.RoomId,
            ["sender"] = i.Sender,
            ["signed"] = Sign(mxid, i.Token),
        }).ToArray());
        var body = new JsonObject { ["medium"] = medium, ["address"] = address, ["mxid"] = mxid, ["invites"] = invites };
        return await homeserver.PutAsJsonAsync("/_matrix/federation/v1/3pid/onbind", body);
    }

    private IResult HashDetails(HttpContext context)
    {
        if (!Authorised(context)) return Unauthorised();
        return Results.Json(new { algorithms = _sha256 ? new[] { "none", "sha256" } : new[] { "none" }, lookup_pepper = Pepper });
    }

    private async Task<IResult> LookupAsync(HttpContext context)
    {
        if (!Authorised(context)) return Unauthorised();
        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        var algorithm = body["algorithm"]!.GetValue<string>();
        _lookupAlgorithms.Enqueue(algorithm);
        if (algorithm == "sha256" && (!_sha256 || body["pepper"]?.GetValue<string>() != Pepper))
            return Results.Json(new { errcode = "M_INVALID_PEPPER", error = "Unknown or unsupported pepper", algorithm = "sha256", lookup_pepper = Pepper }, statusCode: 400);
        var mappings = new JsonObject();
        foreach (var address in body["addresses"]!.AsArray().Select(a => a!.GetValue<string>()))
        {
            var match = _bindings.FirstOrDefault(binding => (algorithm == "sha256" ? Hash(binding.Key) : binding.Key) == address);
            if (match.Key is not null) mappings[address] = match.Value;
        }
        return Results.Json(new JsonObject { ["mappings"] = mappings });
    }

    private async Task<IResult> StoreInviteAsync(HttpContext context)
    {
        if (!Authorised(context)) return Unauthorised();
        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        var token = Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
        var address = body["address"]!.GetValue<string>();
        _invites.Enqueue(new StoredThirdPartyInvite(token, body["medium"]!.GetValue<string>(), address,
            body["room_id"]!.GetValue<string>(), body["sender"]!.GetValue<string>(), body));
        return Results.Json(new JsonObject
        {
            ["token"] = token,
            ["public_keys"] = new JsonArray(new JsonObject { ["public_key"] = Key.PublicKeyBase64, ["key_validity_url"] = KeyValidityUrl }),
            ["display_name"] = address[..1] + "..." + address[address.IndexOf('@')..],
        });
    }

    private static string Hash(string addressAndMedium) =>
        Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes($"{addressAndMedium} {Pepper}"))).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool Authorised(HttpContext context) => context.Request.Headers.Authorization == $"Bearer {AccessToken}";

    private static IResult Unauthorised() => Results.Json(new { errcode = "M_UNAUTHORIZED", error = "Unrecognised access token" }, statusCode: 401);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Key.Dispose();
    }
}
