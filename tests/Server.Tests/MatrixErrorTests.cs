using System.Text.Json;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;

namespace HomeServer.Server.Tests;

public sealed class MatrixErrorTests
{
    [Fact]
    public void Optional_fields_are_left_out_when_unset()
    {
        var json = JsonSerializer.Serialize(new MatrixError("M_FORBIDDEN", "No."), GatewayJsonContext.Default.MatrixError);

        Assert.Equal("""{"errcode":"M_FORBIDDEN","error":"No."}""", json);
    }

    [Fact]
    public void Retry_after_is_written_in_milliseconds_under_the_spec_name()
    {
        var error = new MatrixError("M_LIMIT_EXCEEDED", "Too many requests") { RetryAfterMs = 1500 };

        var json = JsonSerializer.Serialize(error, GatewayJsonContext.Default.MatrixError);

        Assert.Equal("""{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":1500}""", json);
    }
}
