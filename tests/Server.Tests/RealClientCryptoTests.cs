using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests;

/// <summary>
/// Runs tests/clients/e2ee-crypto.mjs against a real server: matrix-js-sdk with its Rust crypto (WebAssembly) for two
/// users, one with two devices, in an encrypted room; cross-signing, a user verified by signing his master key, and
/// two later devices that get the old room keys from the key backup and by a key request answered over to-device.
/// Fails, never skips, when node or the client's node_modules are missing.
/// </summary>
public abstract class RealClientCryptoTests
{
    private static readonly TimeSpan NodeTimeout = TimeSpan.FromMinutes(3);

    protected abstract Task<StoreBackend> CreateBackendAsync();

    [Fact]
    public async Task The_matrix_js_sdk_rust_crypto_decrypts_every_message_and_new_devices_get_the_keys_from_backup_and_forwarding()
    {
        var clients = RealClientTests.FindClientsDirectory();
        Assert.True(Directory.Exists(Path.Combine(clients, "node_modules", "@matrix-org", "matrix-sdk-crypto-wasm")),
            $"matrix-sdk-crypto-wasm is not installed in {clients}: run `npm install` there (./test.sh does).");
        await using var backend = await CreateBackendAsync();
        await using var server = await backend.StartServerAsync();

        var (exitCode, output) = await RealClientTests.RunNodeTestAsync(
            clients, server.Client.BaseAddress!.ToString().TrimEnd('/'), NodeTimeout, "e2ee-crypto.mjs");

        Assert.True(exitCode == 0, $"node --test e2ee-crypto.mjs exited with {exitCode}:\n{RealClientTests.Tail(output, 20_000)}");
    }
}

public sealed class SqliteRealClientCryptoTests : RealClientCryptoTests
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresRealClientCryptoTests : RealClientCryptoTests
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
