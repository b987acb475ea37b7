using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Federation.Signing;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// Two real servers talking over TLS on loopback: A fetches B's keys (and vouches for them as a notary), A queries a
/// profile on B with a signed request that B verifies with A's keys, which B fetches from A. Requests whose
/// signature, destination, key or body do not hold are refused with 401 <c>M_UNAUTHORIZED</c>.
/// </summary>
public abstract class FederationTransportTests<TPair>(TPair pair) where TPair : FederationPair
{
    private ServerSigningKey KeyOf(RunningServer server) => server.App.Services.GetRequiredService<LocalSigningKey>().Current;

    [Fact]
    public async Task A_fetches_and_verifies_the_keys_of_b()
    {
        var grains = pair.A.App.Services.GetRequiredService<IGrainFactory>();
        var keyOfB = KeyOf(pair.B);

        var fetched = await grains.GetGrain<IRemoteServerKeysGrain>(pair.NameOfB).GetVerifyKeyAsync(keyOfB.KeyId, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        Assert.Equal(keyOfB.PublicKey, fetched);
    }

    [Fact]
    public async Task A_as_notary_answers_with_the_keys_of_b_signed_by_both()
    {
        using var client = pair.ClientFor(pair.A);
        var keyOfA = KeyOf(pair.A);
        var keyOfB = KeyOf(pair.B);

        using var response = await client.GetAsync($"/_matrix/key/v2/query/{Uri.EscapeDataString(pair.NameOfB)}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = Assert.Single(JsonNode.Parse(await response.Content.ReadAsByteArrayAsync())!["server_keys"]!.AsArray())!.AsObject();
        Assert.Equal(pair.NameOfB, answer["server_name"]!.GetValue<string>());
        Assert.Equal(keyOfB.PublicKeyBase64, answer["verify_keys"]![keyOfB.KeyId]!["key"]!.GetValue<string>());
        Assert.True(JsonSigning.Verify(answer, pair.NameOfB, keyOfB.KeyId, keyOfB.PublicKey));
        Assert.True(JsonSigning.Verify(answer, pair.NameOfA, keyOfA.KeyId, keyOfA.PublicKey));
    }

    [Fact]
    public async Task The_batch_notary_query_answers_for_each_server_and_leaves_out_unreachable_ones()
    {
        using var client = pair.ClientFor(pair.A);
        var query = new JsonObject
        {
            ["server_keys"] = new JsonObject
            {
                [pair.NameOfB] = new JsonObject { [KeyOf(pair.B).KeyId] = new JsonObject { ["minimum_valid_until_ts"] = 0 } },
                [pair.NameOfA] = new JsonObject(),
                // Nothing listens on port 1.
                ["127.0.0.1:1"] = new JsonObject(),
            },
        };

        using var response = await client.PostAsync("/_matrix/key/v2/query", new StringContent(query.ToJsonString(), Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var servers = JsonNode.Parse(await response.Content.ReadAsByteArrayAsync())!["server_keys"]!.AsArray()
            .Select(k => k!["server_name"]!.GetValue<string>()).Order().ToList();
        Assert.Equal(new[] { pair.NameOfA, pair.NameOfB }.Order().ToList(), servers);
    }

    [Fact]
    public async Task A_signed_profile_query_from_a_is_verified_and_answered_by_b()
    {
        var bob = await TestUsers.CreateAsync(pair.B, "bob", displayName: "Bob on B");
        var federation = pair.A.App.Services.GetRequiredService<FederationClient>();
        var path = $"/_matrix/federation/v1/query/profile?user_id={Uri.EscapeDataString(bob.UserId)}";

        var profile = await federation.SendAsync(pair.NameOfB, HttpMethod.Get, path, null, CancellationToken.None);
        var onlyAvatar = await federation.SendAsync(pair.NameOfB, HttpMethod.Get, path + "&field=avatar_url", null, CancellationToken.None);
        var unknown = await federation.SendAsync(pair.NameOfB, HttpMethod.Get,
            $"/_matrix/federation/v1/query/profile?user_id={Uri.EscapeDataString($"@nobody:{pair.NameOfB}")}", null, CancellationToken.None);

        Assert.Equal(HttpStatusCode.OK, profile.StatusCode);
        Assert.Equal("""{"displayname":"Bob on B"}""", Encoding.UTF8.GetString(profile.Body));
        Assert.Equal(HttpStatusCode.OK, onlyAvatar.StatusCode);
        Assert.Equal("{}", Encoding.UTF8.GetString(onlyAvatar.Body));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("M_NOT_FOUND", JsonNode.Parse(unknown.Body)!["errcode"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_client_reads_the_profile_of_a_user_of_the_other_server_through_its_own_server()
    {
        var bob = await TestUsers.CreateAsync(pair.B, "bob", displayName: "Bob on B");
        using var client = pair.ClientFor(pair.A);
        string Profile(string userId, string field = "") => $"/_matrix/client/v3/profile/{Uri.EscapeDataString(userId)}{field}";

        using var profile = await client.GetAsync(Profile(bob.UserId));
        using var displayName = await client.GetAsync(Profile(bob.UserId, "/displayname"));
        using var avatar = await client.GetAsync(Profile(bob.UserId, "/avatar_url"));
        using var unknown = await client.GetAsync(Profile($"@nobody:{pair.NameOfB}"));
        using var unreachable = await client.GetAsync(Profile("@someone:127.0.0.1:1"));

        Assert.Equal(HttpStatusCode.OK, profile.StatusCode);
        Assert.Equal("Bob on B", JsonNode.Parse(await profile.Content.ReadAsStringAsync())!["displayname"]!.GetValue<string>());
        Assert.Equal("""{"displayname":"Bob on B"}""", await displayName.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, avatar.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("M_NOT_FOUND", JsonNode.Parse(await unknown.Content.ReadAsStringAsync())!["errcode"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadGateway, unreachable.StatusCode);
        Assert.Equal("M_UNKNOWN", JsonNode.Parse(await unreachable.Content.ReadAsStringAsync())!["errcode"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_version_needs_no_signature()
    {
        using var client = pair.ClientFor(pair.B);

        using var response = await client.GetAsync("/_matrix/federation/v1/version");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsByteArrayAsync())!;
        Assert.Equal("Orleans.HomeServer", body["server"]!["name"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(body["server"]!["version"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_signed_body_is_accepted_and_the_endpoint_learns_the_origin()
    {
        var content = JsonNode.Parse("""{"pdus":[],"edus":[{"n":1}]}""");
        var header = RequestSigning.AuthorizationHeader(KeyOf(pair.A), pair.NameOfB, "POST", FederationPair.EchoPath, content);

        using var response = await SendToBAsync(HttpMethod.Post, FederationPair.EchoPath, [header], content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(pair.NameOfA, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_body_changed_after_signing_is_refused()
    {
        var signed = JsonNode.Parse("""{"pdus":[],"edus":[{"n":1}]}""");
        var header = RequestSigning.AuthorizationHeader(KeyOf(pair.A), pair.NameOfB, "POST", FederationPair.EchoPath, signed);

        using var response = await SendToBAsync(HttpMethod.Post, FederationPair.EchoPath, [header], JsonNode.Parse("""{"pdus":[],"edus":[{"n":2}]}"""));

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_UNAUTHORIZED");
    }

    [Fact]
    public async Task A_federation_body_over_the_limit_is_refused_before_any_signature_check()
    {
        var content = new JsonObject { ["padding"] = new string('x', FederationPair.MaxBodyBytesOfB) };
        var header = RequestSigning.AuthorizationHeader(KeyOf(pair.A), pair.NameOfB, "GET", ProfilePath(), content);

        // As a careful client sends a large body: the server's refusal comes before the body is sent, so the client
        // never writes into a connection the server has closed.
        using var response = await SendToBAsync(HttpMethod.Get, ProfilePath(), [header], content, expectContinue: true);

        await response.AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "M_TOO_LARGE");
    }

    [Fact]
    public async Task A_request_without_an_x_matrix_header_is_refused()
    {
        using var response = await SendToBAsync(HttpMethod.Get, ProfilePath(), [], null);

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_UNAUTHORIZED");
    }

    [Fact]
    public async Task A_malformed_x_matrix_header_is_refused()
    {
        using var response = await SendToBAsync(HttpMethod.Get, ProfilePath(), [$"X-Matrix origin=\"{pair.NameOfA}\",key=\"ed25519:x\""], null);

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_UNAUTHORIZED");
    }

    [Fact]
    public async Task A_wrong_signature_is_refused()
    {
        var keyOfA = KeyOf(pair.A);
        using var impostor = ServerSigningKey.FromSeed(pair.NameOfA, keyOfA.KeyId, RandomNumberGenerator.GetBytes(32));
        var header = RequestSigning.AuthorizationHeader(impostor, pair.NameOfB, "GET", ProfilePath(), null);

        using var response = await SendToBAsync(HttpMethod.Get, ProfilePath(), [header], null);

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_UNAUTHORIZED");
    }

    [Fact]
    public async Task A_request_for_another_destination_is_refused()
    {
        var header = RequestSigning.AuthorizationHeader(KeyOf(pair.A), "elsewhere.example", "GET", ProfilePath(), null);

        using var response = await SendToBAsync(HttpMethod.Get, ProfilePath(), [header], null);

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_UNAUTHORIZED");
    }

    [Fact]
    public async Task A_key_the_origin_does_not_publish_is_refused()
    {
        using var unknown = ServerSigningKey.FromSeed(pair.NameOfA, "ed25519:unknown", RandomNumberGenerator.GetBytes(32));
        var header = RequestSigning.AuthorizationHeader(unknown, pair.NameOfB, "GET", ProfilePath(), null);

        using var response = await SendToBAsync(HttpMethod.Get, ProfilePath(), [header], null);

        await response.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_UNAUTHORIZED");
    }

    [Fact]
    public async Task Every_x_matrix_header_of_a_request_must_verify()
    {
        var keyOfA = KeyOf(pair.A);
        using var impostor = ServerSigningKey.FromSeed(pair.NameOfA, keyOfA.KeyId, RandomNumberGenerator.GetBytes(32));
        var good = RequestSigning.AuthorizationHeader(keyOfA, pair.NameOfB, "GET", ProfilePath(), null);
        var bad = RequestSigning.AuthorizationHeader(impostor, pair.NameOfB, "GET", ProfilePath(), null);

        var accepted = await RawGetAsync(pair.B, ProfilePath(), [good, good]);
        var refused = await RawGetAsync(pair.B, ProfilePath(), [good, bad]);

        // The user does not exist: an authenticated request gets as far as the 404.
        Assert.Equal((404, true), (accepted.Status, accepted.Body.Contains("M_NOT_FOUND")));
        Assert.Equal((401, true), (refused.Status, refused.Body.Contains("M_UNAUTHORIZED")));
    }

    [Fact]
    public async Task A_server_not_allowed_private_addresses_refuses_to_reach_loopback()
    {
        var (guarded, _) = await pair.StartAsync(allowPrivateAddresses: false);
        var federation = guarded.App.Services.GetRequiredService<FederationClient>();

        var failure = await Assert.ThrowsAsync<FederationRequestException>(() =>
            federation.GetUnsignedAsync(pair.NameOfB, "/_matrix/key/v2/server", CancellationToken.None));
        using var client = pair.ClientFor(guarded);
        using var notary = await client.GetAsync($"/_matrix/key/v2/query/{Uri.EscapeDataString(pair.NameOfB)}");

        Assert.IsType<OutboundAddressRefusedException>(failure.InnerException);
        Assert.Equal(HttpStatusCode.OK, notary.StatusCode);
        Assert.Empty(JsonNode.Parse(await notary.Content.ReadAsByteArrayAsync())!["server_keys"]!.AsArray());
    }

    [Fact]
    public async Task A_server_that_does_not_trust_the_test_ca_refuses_its_certificates()
    {
        var (untrusting, _) = await pair.StartAsync(allowPrivateAddresses: true, trustTestCa: false);
        var federation = untrusting.App.Services.GetRequiredService<FederationClient>();

        var failure = await Assert.ThrowsAsync<FederationRequestException>(() =>
            federation.GetUnsignedAsync(pair.NameOfB, "/_matrix/key/v2/server", CancellationToken.None));

        Assert.Contains(Chain(failure), e => e is System.Security.Authentication.AuthenticationException);
    }

    private static IEnumerable<Exception> Chain(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException) yield return e;
    }

    private string ProfilePath() =>
        $"/_matrix/federation/v1/query/profile?user_id={Uri.EscapeDataString($"@nobody:{pair.NameOfB}")}";

    /// <summary>
    /// A GET written by hand over TLS, because HttpClient folds repeated <c>Authorization</c> headers into one line.
    /// </summary>
    private async Task<(int Status, string Body)> RawGetAsync(RunningServer server, string pathAndQuery, IEnumerable<string> authorization)
    {
        var address = server.Client.BaseAddress!;
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        var roots = FederationHttpHandler.LoadCertificates([pair.Authority.CaCertificatePath]);
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream(), false,
            (_, certificate, chain, errors) => FederationHttpHandler.IsTrusted(certificate, chain, errors, roots));
        await tls.AuthenticateAsClientAsync(address.Host);
        var request = new StringBuilder($"GET {pathAndQuery} HTTP/1.1\r\nHost: {address.Authority}\r\nConnection: close\r\n");
        foreach (var header in authorization) request.Append($"Authorization: {header}\r\n");
        request.Append("\r\n");
        await tls.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()));
        using var reader = new StreamReader(tls, Encoding.UTF8);
        var response = await reader.ReadToEndAsync();
        var status = int.Parse(response.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
        return (status, response);
    }

    private async Task<HttpResponseMessage> SendToBAsync(
        HttpMethod method, string pathAndQuery, IEnumerable<string> authorization, JsonNode? content, bool expectContinue = false)
    {
        using var client = pair.ClientFor(pair.B);
        using var request = new HttpRequestMessage(method, pathAndQuery);
        request.Headers.ExpectContinue = expectContinue;
        foreach (var header in authorization) request.Headers.TryAddWithoutValidation("Authorization", header);
        if (content is not null) request.Content = new StringContent(content.ToJsonString(), Encoding.UTF8, "application/json");
        return await client.SendAsync(request);
    }
}

public sealed class SqliteFederationTransportTests(SqliteFederationPair pair)
    : FederationTransportTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresFederationTransportTests(PostgresFederationPair pair)
    : FederationTransportTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
