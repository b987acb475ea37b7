using HomeServer.Grains.Media;
using Microsoft.Extensions.Options;

namespace HomeServer.Gateway.Media;

/// <summary>
/// The bytes of local media and their thumbnails, as files under <see cref="MediaOptions.Directory"/>. A file is
/// written under tmp/ first and then moved to its final name, which never overwrites: the final file either does not
/// exist or is complete, and of two writers of one name only the first wins.
/// </summary>
public sealed class MediaFiles(IOptions<MediaOptions> options) : IMediaContentFiles
{
    private const int CopyBufferBytes = 81920;

    private string Root => Path.GetFullPath(options.Value.Directory
        ?? throw new InvalidOperationException("Media:Directory is not configured."));

    public string ContentPath(string mediaId) => Path.Combine(Root, "content", mediaId[..2], mediaId);

    public string ThumbnailPath(string mediaId, string variant) => Path.Combine(Root, "thumbnails", mediaId[..2], mediaId, variant);

    /// <summary>
    /// Copies <paramref name="body"/> to a new temporary file, at most <paramref name="maxBytes"/>
    /// (<see cref="MediaTooLargeException"/> past it, and the file is removed). Returns its path and length.
    /// </summary>
    public async Task<(string Path, long Length)> WriteTemporaryAsync(Stream body, long maxBytes, CancellationToken cancellationToken)
    {
        var path = TemporaryPath();
        try
        {
            long length = 0;
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopyBufferBytes, useAsync: true))
            {
                var buffer = new byte[CopyBufferBytes];
                int read;
                while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    length += read;
                    if (length > maxBytes) throw TooLarge(maxBytes);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
            }
            return (path, length);
        }
        catch
        {
            Delete(path);
            throw;
        }
    }

    /// <summary>Other servers' media cached here: written like an upload, under its local file id (docs/adr/0043).</summary>
    public async Task<long?> WriteContentAsync(string fileId, Stream body, long maxBytes, CancellationToken cancellationToken)
    {
        string temporary;
        long length;
        try
        {
            (temporary, length) = await WriteTemporaryAsync(body, maxBytes, cancellationToken);
        }
        catch (MediaTooLargeException)
        {
            return null;
        }
        if (!TryPublish(temporary, ContentPath(fileId))) throw new IOException($"The content file {fileId} exists already.");
        return length;
    }

    public void DeleteContent(string fileId) => Delete(ContentPath(fileId));

    public bool ContentExists(string fileId) => File.Exists(ContentPath(fileId));

    public void DeleteThumbnails(string fileId)
    {
        try
        {
            Directory.Delete(Path.Combine(Root, "thumbnails", fileId[..2], fileId), recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // None were made, or one is being written: left behind, as an orphan thumbnail is never served.
        }
    }

    /// <summary>A new file name under tmp/, on the same file system as the final files so that publishing is a rename.</summary>
    public string TemporaryPath()
    {
        var directory = Path.Combine(Root, "tmp");
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, Guid.NewGuid().ToString("N"));
    }

    /// <summary>Moves a temporary file to its final path; false (and the temporary file removed) when that exists already.</summary>
    public bool TryPublish(string temporaryPath, string finalPath)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(finalPath)!);
        try
        {
            File.Move(temporaryPath, finalPath, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(finalPath))
        {
            Delete(temporaryPath);
            return false;
        }
    }

    public static void Delete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Left behind; a file under tmp/ is never served.
        }
    }

    private static MediaTooLargeException TooLarge(long maxBytes) => new(maxBytes);
}

/// <summary>A body longer than the limit it was written with.</summary>
public sealed class MediaTooLargeException(long maxBytes) : Exception($"Larger than {maxBytes} bytes.");
