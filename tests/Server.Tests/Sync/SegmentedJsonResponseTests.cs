using System.Buffers;
using System.IO.Pipelines;
using HomeServer.Gateway.Json;
using HomeServer.Grains.Sync;

namespace HomeServer.Server.Tests.Sync;

/// <summary>A segmented body reaches the client as the same bytes, written in chunks the connection's back-pressure can hold.</summary>
public sealed class SegmentedJsonResponseTests
{
    [Fact]
    public async Task The_segments_arrive_in_order_byte_for_byte_and_never_more_than_the_pipe_holds_is_buffered()
    {
        const int chunk = SegmentedJsonResponse.ChunkBytes;
        var sizes = new[] { 0, 1, chunk - 1, chunk, chunk + 1, 5 * chunk + 7, 3, 200_000 };
        var segments = sizes.Select((size, i) => Enumerable.Range(0, size).Select(b => (byte)(b * 31 + i)).ToArray()).ToArray();
        var body = new SegmentedJson(segments);
        // Like Kestrel's response pipe: a writer that flushes past the threshold waits until the reader has caught up.
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024, useSynchronizationContext: false));
        var mostBuffered = 0L;

        var writing = Task.Run(async () =>
        {
            await SegmentedJsonResponse.WriteAsync(pipe.Writer, body, CancellationToken.None);
            await pipe.Writer.CompleteAsync();
        });
        var received = new List<byte>();
        while (true)
        {
            var read = await pipe.Reader.ReadAsync();
            mostBuffered = Math.Max(mostBuffered, read.Buffer.Length);
            received.AddRange(read.Buffer.ToArray());
            pipe.Reader.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted) break;
            await Task.Delay(1);
        }
        await writing;

        Assert.Equal(body.ToArray(), received.ToArray());
        Assert.Equal(body.Length, received.Count);
        Assert.True(mostBuffered <= 64 * 1024 + chunk, $"{mostBuffered} bytes were buffered at once");
    }
}
