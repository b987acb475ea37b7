using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;

namespace HomeServer.Gateway.Media;

/// <summary>
/// Thumbnails are generated once per media and size and kept as files beside the media; later requests read the file.
/// Concurrent first requests for one thumbnail in a process wait for a single generation.
/// </summary>
public sealed class ThumbnailCache(MediaFiles files, IOptions<MediaOptions> options)
{
    public const string MeterName = "HomeServer.Media";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Thumbnails generated (not served from the cache).</summary>
    private static readonly Counter<long> Generated = Meter.CreateCounter<long>("homeserver.media.thumbnails_generated");

    private readonly ConcurrentDictionary<string, Lazy<Task>> _generating = new();

    /// <summary>The path and content type of the thumbnail of <paramref name="mediaId"/> in <paramref name="size"/>, generated if needed.</summary>
    public async Task<(string Path, string ContentType)> GetAsync(string mediaId, ThumbnailSize size)
    {
        var path = files.ThumbnailPath(mediaId, $"{size.Width}x{size.Height}-{size.Method.ToString().ToLowerInvariant()}");
        if (!File.Exists(path))
        {
            var generation = _generating.GetOrAdd(path, key => new Lazy<Task>(() => Task.Run(() => Generate(mediaId, size, key))));
            try
            {
                await generation.Value;
            }
            finally
            {
                _generating.TryRemove(KeyValuePair.Create(path, generation));
            }
        }
        return (path, ContentTypeOf(path));
    }

    private void Generate(string mediaId, ThumbnailSize size, string path)
    {
        if (File.Exists(path)) return;
        var thumbnail = ThumbnailGenerator.Generate(files.ContentPath(mediaId), size, options.Value.MaxThumbnailSourcePixels);
        var temporary = files.TemporaryPath();
        File.WriteAllBytes(temporary, thumbnail.Bytes);
        files.TryPublish(temporary, path);
        Generated.Add(1);
    }

    // The generator writes JPEG or PNG; the file's first bytes say which.
    private static string ContentTypeOf(string path)
    {
        Span<byte> head = stackalloc byte[2];
        using var file = File.OpenRead(path);
        return file.Read(head) == 2 && head[0] == 0xFF && head[1] == 0xD8 ? "image/jpeg" : "image/png";
    }
}
