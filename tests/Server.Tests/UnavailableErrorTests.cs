using System.Net;
using System.Text.Json;
using HomeServer.Grains;
using HomeServer.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Orleans.Runtime;

namespace HomeServer.Server.Tests;

/// <summary>
/// A store or silo that is briefly unreachable is 503 with Retry-After and M_LIMIT_EXCEEDED (which clients
/// retry after retry_after_ms), never 500 M_UNKNOWN, and the exception's details stay in the log.
/// </summary>
public sealed class UnavailableErrorTests
{
    public static TheoryData<string> Failures => ["store", "silo", "busy", "timeout"];

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task Unavailability_is_503_limit_exceeded_with_retry_after(string failure)
    {
        await using var server = await RunningServer.StartAsync(configure: app =>
            app.MapGet("/_matrix/client/v3/test/unavailable", string () => throw (failure switch
            {
                "store" => new StoreUnavailableError("PostgreSQL is unavailable: Host=db Password=hunter2"),
                "silo" => new SiloUnavailableException("Silo 127.0.0.1:11111@1 cannot be reached"),
                "busy" => new RoomBusyException("Room !r:localhost was changed by another writer; try again."),
                _ => new TimeoutException("Response did not arrive on time in 00:00:30"),
            })));

        using var response = await server.Client.GetAsync("/_matrix/client/v3/test/unavailable");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("M_LIMIT_EXCEEDED", body.GetProperty("errcode").GetString());
        Assert.Equal(1000, body.GetProperty("retry_after_ms").GetInt32());
        Assert.DoesNotContain("hunter2", body.GetProperty("error").GetString());
    }
}
