namespace HomeServer.Grains.Federation.Transport;

/// <summary>A response body longer than the caller accepts.</summary>
public sealed class ResponseTooLargeException(long limit) : Exception($"The response is larger than {limit} bytes.");

internal static class BoundedContent
{
    /// <summary>Reads the whole body, failing as soon as it passes <paramref name="limit"/> bytes.</summary>
    /// <exception cref="ResponseTooLargeException"></exception>
    public static async Task<byte[]> ReadAsync(HttpContent content, long limit, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > limit) throw new ResponseTooLargeException(limit);
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > limit) throw new ResponseTooLargeException(limit);
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
