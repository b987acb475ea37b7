using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Guests;

/// <summary>A backend whose server also takes extra arguments (here: guests allowed, cheap password hashing).</summary>
public sealed class ArgumentsBackend(StoreBackend inner, params string[] extra) : StoreBackend
{
    public override string[] ServerArguments => [.. inner.ServerArguments, .. extra];

    public override ValueTask DisposeAsync() => inner.DisposeAsync();
}

public static class GuestServers
{
    public static readonly string[] Arguments = ["--Registration:AllowGuests=true", "--PasswordHashing:Iterations=1000"];
}

public sealed class SqliteGuestServerFixture : BackendServerFixture
{
    protected override Task<StoreBackend> CreateBackendAsync() =>
        Task.FromResult<StoreBackend>(new ArgumentsBackend(new SqliteBackend(), GuestServers.Arguments));
}

public sealed class PostgresGuestServerFixture : BackendServerFixture
{
    protected override async Task<StoreBackend> CreateBackendAsync() =>
        new ArgumentsBackend(await PostgresBackend.CreateAsync(), GuestServers.Arguments);
}
