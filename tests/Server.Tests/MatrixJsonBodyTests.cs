using System.Buffers;
using System.Text;
using HomeServer.Gateway.Errors;
using HomeServer.Gateway.Json;
using HomeServer.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace HomeServer.Server.Tests;

public sealed class MatrixJsonBodyTests
{
    [Theory]
    [InlineData("""{"text":"a"}""")]
    [InlineData(""" {"text":"a","unknown":[1,2]}  """)]
    public void Well_formed_object_of_the_right_shape_is_read(string json)
    {
        Assert.Equal("a", Deserialize(json).Text);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("{'text':'a'}")]
    [InlineData("""{"text":"a"} {"text":"b"}""")]
    [InlineData("""{"text":"a"} trailing""")]
    public void Malformed_json_is_not_json(string json)
    {
        AssertError(json, MatrixErrorCode.NotJson);
    }

    [Theory]
    [InlineData("""{"text":1}""")]
    [InlineData("""{"other":"a"}""")]
    [InlineData("""["text"]""")]
    [InlineData("null")]
    [InlineData("\"text\"")]
    public void Well_formed_json_of_the_wrong_shape_is_bad_json(string json)
    {
        AssertError(json, MatrixErrorCode.BadJson);
    }

    [Theory]
    [InlineData(new byte[] { (byte)'{', (byte)'"', (byte)'t', (byte)'e', (byte)'x', (byte)'t', (byte)'"', (byte)':', (byte)'"', 0xFF, (byte)'"', (byte)'}' })]
    [InlineData(new byte[] { (byte)'{', (byte)'"', (byte)'t', (byte)'e', (byte)'x', (byte)'t', (byte)'"', (byte)':', (byte)'"', 0xC3, (byte)'"', (byte)'}' })]
    [InlineData(new byte[] { (byte)'{', (byte)'"', 0xED, 0xA0, 0x80, (byte)'"', (byte)':', (byte)'1', (byte)'}' })]
    [InlineData(new byte[] { (byte)' ', (byte)'\n' })]
    public void Invalid_utf8_or_a_blank_body_is_not_json(byte[] body)
    {
        var exception = Assert.Throws<MatrixException>(() =>
            MatrixJsonBody.Deserialize(new ReadOnlySequence<byte>(body), TestJsonContext.Default.EchoRequest, maxDepth: 64));
        Assert.Equal(MatrixErrorCode.NotJson, exception.Error.ErrCode);
    }

    [Fact]
    public async Task Reads_the_whole_request_body()
    {
        var context = new DefaultHttpContext();
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes($$"""{"text":"{{new string('x', 100_000)}}"}"""));

        var value = await context.Request.ReadMatrixJsonAsync(TestJsonContext.Default.EchoRequest);

        Assert.Equal(100_000, value.Text.Length);
    }

    private static EchoRequest Deserialize(string json) =>
        MatrixJsonBody.Deserialize(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(json)), TestJsonContext.Default.EchoRequest, maxDepth: 64);

    private static void AssertError(string json, string errcode)
    {
        var exception = Assert.Throws<MatrixException>(() => Deserialize(json));
        Assert.Equal(StatusCodes.Status400BadRequest, exception.StatusCode);
        Assert.Equal(errcode, exception.Error.ErrCode);
    }
}
