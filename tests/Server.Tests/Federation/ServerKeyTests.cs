using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Identifiers;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Rooms;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using NSec.Cryptography;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// <c>GET /_matrix/key/v2/server</c> fetched as another server would (no authentication), its self-signature checked
/// with NSec against the published key, and the key kept across restarts on the same data.
/// </summary>
public abstract class ServerKeyTests : IAsyncLifetime
{
    private const string ServerName = "localhost";
    private StoreBackend _backend = null!;

    protected StoreBackend Backend => _backend;

    protected abstract Task<StoreBackend> CreateBackendAsync();

    public async Task InitializeAsync() => _backend = await CreateBackendAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Fact]
    public async Task The_server_publishes_one_self_signed_key_valid_for_a_day_and_keeps_it_across_a_restart()
    {
        PublishedKeys first;
        await using (var server = await _backend.StartServerAsync())
        {
            var before = DateTimeOffset.UtcNow;
            first = await FetchAsync(server);
            var after = DateTimeOffset.UtcNow;

            Assert.Equal(ServerName, first.ServerName);
            Assert.True(ServerSigningKey.IsValidKeyId(first.KeyId), first.KeyId);
            Assert.Equal(32, first.PublicKey.Length);
            Assert.Empty(first.OldKeys);
            Assert.InRange(first.ValidUntilTs, before.AddDays(1).ToUnixTimeMilliseconds(), after.AddDays(1).ToUnixTimeMilliseconds());
            Assert.Equal([ServerName], first.Signers);
            Assert.True(first.SignatureIsValid);
        }

        await using var restarted = await _backend.StartServerAsync();
        var second = await FetchAsync(restarted);

        Assert.Equal((first.KeyId, Convert.ToBase64String(first.PublicKey)), (second.KeyId, Convert.ToBase64String(second.PublicKey)));
        Assert.True(second.SignatureIsValid);
    }

    [Fact]
    public async Task The_validity_is_configurable()
    {
        await using var server = await RunningServer.StartAsync([.. _backend.ServerArguments, "--Federation:KeyResponseValidity=02:00:00"]);
        var before = DateTimeOffset.UtcNow;

        var keys = await FetchAsync(server);

        Assert.InRange(keys.ValidUntilTs, before.AddHours(2).ToUnixTimeMilliseconds(), DateTimeOffset.UtcNow.AddHours(2).ToUnixTimeMilliseconds());
        Assert.True(keys.SignatureIsValid);
    }

    [Fact]
    public async Task Events_the_server_creates_carry_a_signature_by_the_published_key()
    {
        await using var server = await _backend.StartServerAsync();
        var keys = await FetchAsync(server);
        var alice = new RoomsClient(server.Client, await TestUsers.CreateAsync(server, "alice"));
        var roomId = await alice.CreateRoomAsync(new { preset = "private_chat", room_version = "11" });
        var eventId = await alice.SendTextAsync(roomId, "signed");

        var stored = await server.App.Services.GetRequiredService<IHomeServerStore>().Events.GetEventAsync(eventId, CancellationToken.None);
        var pdu = JsonNode.Parse(stored!.Json)!.AsObject();

        Assert.True(EventSigning.Verify(RoomVersion.V11, pdu, ServerName, keys.KeyId, keys.PublicKey));
        Assert.Equal([keys.KeyId], pdu["signatures"]![ServerName]!.AsObject().Select(p => p.Key));
        // Clients never see the federation fields.
        var seen = await alice.GetEventAsync(roomId, eventId);
        Assert.False(seen.TryGetProperty("signatures", out _));
    }

    [Fact]
    public async Task After_a_rotation_the_new_key_signs_and_the_old_one_is_published_with_its_expiry()
    {
        PublishedKeys before;
        const long expiredTs = 1_700_000_000_000;
        await using (var server = await _backend.StartServerAsync())
        {
            before = await FetchAsync(server);
            var (keyId, seed) = ServerSigningKey.NewSeed();
            var store = server.App.Services.GetRequiredService<IHomeServerStore>();
            Assert.True(await store.SigningKeys.RotateAsync(
                before.KeyId, new NewServerSigningKey(keyId, ServerSigningKey.PublicKeyOf(seed), seed, expiredTs), expiredTs, CancellationToken.None));
        }

        await using var restarted = await _backend.StartServerAsync();
        var after = await FetchAsync(restarted);

        Assert.NotEqual(before.KeyId, after.KeyId);
        Assert.True(after.SignatureIsValid);
        var old = Assert.Single(after.OldKeys);
        Assert.Equal((before.KeyId, expiredTs, Convert.ToBase64String(before.PublicKey)), (old.KeyId, old.ExpiredTs, Convert.ToBase64String(old.PublicKey)));
    }

    [Fact]
    public async Task The_key_id_path_removed_from_the_spec_is_not_served()
    {
        await using var server = await _backend.StartServerAsync();
        var keys = await FetchAsync(server);

        using var response = await server.Client.GetAsync($"/_matrix/key/v2/server/{Uri.EscapeDataString(keys.KeyId)}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("M_UNRECOGNIZED", body.RootElement.GetProperty("errcode").GetString());
    }

    private sealed record OldKey(string KeyId, long ExpiredTs, byte[] PublicKey);

    private sealed record PublishedKeys(
        string ServerName, string KeyId, byte[] PublicKey, IReadOnlyList<OldKey> OldKeys, long ValidUntilTs, IReadOnlyList<string> Signers, bool SignatureIsValid);

    /// <summary>Fetches the keys without any credentials and checks the signature as a remote server would.</summary>
    private static async Task<PublishedKeys> FetchAsync(RunningServer server)
    {
        using var client = new HttpClient { BaseAddress = server.Client.BaseAddress };
        using var response = await client.GetAsync("/_matrix/key/v2/server");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonNode.Parse(await response.Content.ReadAsByteArrayAsync())!.AsObject();

        var verifyKey = Assert.Single(json["verify_keys"]!.AsObject());
        var publicKey = Decode(verifyKey.Value!["key"]!.GetValue<string>());
        var oldKeys = json["old_verify_keys"]!.AsObject()
            .Select(k => new OldKey(k.Key, k.Value!["expired_ts"]!.GetValue<long>(), Decode(k.Value!["key"]!.GetValue<string>())))
            .ToList();
        var signatures = json["signatures"]!.AsObject();
        var signature = signatures[ServerName]?[verifyKey.Key]?.GetValue<string>();

        // What was signed: the object without signatures (and unsigned), as canonical JSON.
        var signed = (JsonObject)json.DeepClone();
        signed.Remove("signatures");
        signed.Remove("unsigned");
        var valid = signature is not null
            && PublicKey.TryImport(SignatureAlgorithm.Ed25519, publicKey, KeyBlobFormat.RawPublicKey, out var key)
            && SignatureAlgorithm.Ed25519.Verify(key!, CanonicalJson.Encode(signed), Decode(signature));

        return new PublishedKeys(
            json["server_name"]!.GetValue<string>(), verifyKey.Key, publicKey, oldKeys, json["valid_until_ts"]!.GetValue<long>(),
            signatures.Select(s => s.Key).ToList(), valid);
    }

    private static byte[] Decode(string unpadded) =>
        Convert.FromBase64String(unpadded.PadRight(unpadded.Length + (4 - unpadded.Length % 4) % 4, '='));
}

public sealed class SqliteServerKeyTests : ServerKeyTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresServerKeyTests : ServerKeyTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();

    [Fact]
    public async Task Servers_starting_at_once_on_one_database_publish_the_same_key()
    {
        var servers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() => RunningServer.StartAsync(Backend.ServerArguments))));
        try
        {
            var keys = await Task.WhenAll(servers.Select(async server =>
            {
                using var client = new HttpClient { BaseAddress = server.Client.BaseAddress };
                return JsonNode.Parse(await client.GetByteArrayAsync("/_matrix/key/v2/server"))!["verify_keys"]!.ToJsonString();
            }));

            Assert.Single(keys.Distinct());
        }
        finally
        {
            foreach (var server in servers) await server.DisposeAsync();
        }
    }
}
