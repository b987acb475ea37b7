namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// Runs tests/clients/e2ee-federation.mjs: matrix-js-sdk with its Rust crypto for a user of server A and a user of
/// server B (two servers of this project over TLS of a test CA, which node trusts through NODE_EXTRA_CA_CERTS) in an
/// encrypted room of A; each decrypts the other's messages. Fails, never skips, when node or the client's
/// node_modules are missing.
/// </summary>
public sealed class FederatedRealClientCryptoTests(SqliteFederationPair pair) : IClassFixture<SqliteFederationPair>
{
    private static readonly TimeSpan NodeTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task Users_of_two_servers_decrypt_each_others_messages_with_the_matrix_js_sdk_rust_crypto()
    {
        var clients = RealClientTests.FindClientsDirectory();
        Assert.True(Directory.Exists(Path.Combine(clients, "node_modules", "@matrix-org", "matrix-sdk-crypto-wasm")),
            $"matrix-sdk-crypto-wasm is not installed in {clients}: run `npm install` there (./test.sh does).");
        var environment = new Dictionary<string, string>
        {
            ["HOMESERVER_BASE_URL_B"] = pair.B.Client.BaseAddress!.ToString().TrimEnd('/'),
            ["NODE_EXTRA_CA_CERTS"] = pair.Authority.CaCertificatePath,
        };

        var (exitCode, output) = await RealClientTests.RunNodeTestAsync(
            clients, pair.A.Client.BaseAddress!.ToString().TrimEnd('/'), NodeTimeout, environment, "e2ee-federation.mjs");

        Assert.True(exitCode == 0, $"node --test e2ee-federation.mjs exited with {exitCode}:\n{RealClientTests.Tail(output, 20_000)}");
    }
}
