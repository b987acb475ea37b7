using System.Text;
using HomeServer.Grains.Media;

namespace HomeServer.Server.Tests.Federation;

/// <summary>The reader of federation media answers (RFC 2046 multipart/mixed), on bodies arriving in any slicing.</summary>
public sealed class FederationMediaMultipartTests
{
    private const string Boundary = "b0undary";

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(100_000)]
    public async Task Parts_are_read_exactly_whatever_sizes_the_body_arrives_in(int chunkBytes)
    {
        // Content that looks like delimiters without being one: no CRLF before, or the boundary cut short.
        var content = "line one\r\n--b0undar\r\n-b0undary--b0undary x--b0undary\r\n";
        var trickyBinary = new byte[] { 0, 13, 10, 45, 45, 98, 48, 13, 10, 255 };
        var body = "ignored preamble\r\n" +
                   $"--{Boundary}\r\nContent-Type: application/json\r\n\r\n{{}}\r\n" +
                   $"--{Boundary}  \r\ncontent-type: text/plain\r\nContent-Disposition: inline; filename=\"a.txt\"\r\n\r\n{content}\r\n" +
                   $"--{Boundary}\r\n\r\n";
        var bytes = Encoding.ASCII.GetBytes(body).Concat(trickyBinary).Concat(Encoding.ASCII.GetBytes($"\r\n--{Boundary}--\r\nepilogue")).ToArray();

        var reader = new MultipartMixedReader(new ChunkedStream(bytes, chunkBytes), Boundary);
        var parts = new List<(IReadOnlyDictionary<string, string> Headers, byte[] Body)>();
        while (await reader.ReadNextPartAsync(CancellationToken.None) is { } part)
        {
            using var copy = new MemoryStream();
            await part.Body.CopyToAsync(copy);
            parts.Add((part.Headers, copy.ToArray()));
        }

        Assert.Equal(3, parts.Count);
        Assert.Equal("application/json", parts[0].Headers["Content-Type"]);
        Assert.Equal("{}", Encoding.ASCII.GetString(parts[0].Body));
        Assert.Equal("text/plain", parts[1].Headers["Content-Type"]);
        Assert.Equal("inline; filename=\"a.txt\"", parts[1].Headers["content-disposition"]);
        Assert.Equal(content, Encoding.ASCII.GetString(parts[1].Body));
        Assert.Empty(parts[2].Headers);
        Assert.Equal(trickyBinary, parts[2].Body);
    }

    [Fact]
    public async Task An_unread_part_is_skipped_when_the_next_is_asked_for()
    {
        var bytes = Encoding.ASCII.GetBytes($"--{Boundary}\r\nA: 1\r\n\r\n{new string('x', 200_000)}\r\n--{Boundary}\r\nB: 2\r\n\r\nsecond\r\n--{Boundary}--");
        var reader = new MultipartMixedReader(new ChunkedStream(bytes, 4096), Boundary);
        Assert.Equal("1", (await reader.ReadNextPartAsync(CancellationToken.None))!.Header("A"));
        var second = await reader.ReadNextPartAsync(CancellationToken.None);
        Assert.Equal("2", second!.Header("b"));
        Assert.Equal("second", await new StreamReader(second.Body).ReadToEndAsync());
        Assert.Null(await reader.ReadNextPartAsync(CancellationToken.None));
    }

    [Theory]
    [InlineData("--b0undary\r\nContent-Type: text/plain\r\n\r\ncut off in the middle")]
    [InlineData("--b0undary\r\nContent-Type: text/pl")]
    [InlineData("no delimiter at all")]
    [InlineData("--b0undary garbage\r\n\r\nx\r\n--b0undary--")]
    [InlineData("--b0undary\r\nno colon here\r\n\r\nx\r\n--b0undary--")]
    public async Task Malformed_bodies_are_refused(string body)
    {
        var reader = new MultipartMixedReader(new MemoryStream(Encoding.ASCII.GetBytes(body)), Boundary);
        await Assert.ThrowsAsync<MalformedMultipartException>(async () =>
        {
            while (await reader.ReadNextPartAsync(CancellationToken.None) is { } part) await part.Body.CopyToAsync(Stream.Null);
        });
    }

    [Theory]
    [InlineData("multipart/mixed; boundary=abc", "abc")]
    [InlineData("Multipart/Mixed; charset=x; BOUNDARY=\"a b:c\"", "a b:c")]
    [InlineData("multipart/form-data; boundary=abc", null)]
    [InlineData("multipart/mixed", null)]
    public void The_boundary_comes_from_a_multipart_mixed_content_type(string contentType, string? boundary) =>
        Assert.Equal(boundary, MultipartMixedReader.BoundaryOf(System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType)));

    /// <summary>Hands out at most <c>chunkBytes</c> per read.</summary>
    private sealed class ChunkedStream(byte[] bytes, int chunkBytes) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, chunkBytes));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            base.ReadAsync(buffer, offset, Math.Min(count, chunkBytes), cancellationToken);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunkBytes)], cancellationToken);
    }
}
