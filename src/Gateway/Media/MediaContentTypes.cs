using System.Net.Http.Headers;

namespace HomeServer.Gateway.Media;

/// <summary>
/// Which content types a download may carry, and how it is disposed. Only types a browser cannot run as a page or
/// script are served as uploaded; anything else (text/html, image/svg+xml, …) is served as application/octet-stream.
/// </summary>
public static class MediaContentTypes
{
    public const string OctetStream = "application/octet-stream";

    /// <summary>The spec's list of types that may be served inline ("Serving inline content").</summary>
    private static readonly HashSet<string> Inline = new(StringComparer.OrdinalIgnoreCase)
    {
        "text/css", "text/plain", "text/csv", "application/json", "application/ld+json",
        "image/jpeg", "image/gif", "image/png", "image/apng", "image/webp", "image/avif",
        "video/mp4", "video/webm", "video/ogg", "video/quicktime",
        "audio/mp4", "audio/webm", "audio/aac", "audio/mpeg", "audio/ogg", "audio/wave", "audio/wav", "audio/x-wav",
        "audio/x-pn-wav", "audio/flac", "audio/x-flac",
    };

    /// <summary>
    /// The Content-Type of a download of media uploaded as <paramref name="uploaded"/>: the uploaded type (with its
    /// charset for text/*) when it is on the safe list, else application/octet-stream.
    /// </summary>
    public static string Served(string uploaded)
    {
        if (!MediaTypeHeaderValue.TryParse(uploaded, out var parsed) || parsed.MediaType is not { } mediaType || !Inline.Contains(mediaType))
            return OctetStream;
        var type = mediaType.ToLowerInvariant();
        return type.StartsWith("text/", StringComparison.Ordinal) && parsed.CharSet is { Length: > 0 } charset
            ? new MediaTypeHeaderValue(type) { CharSet = charset }.ToString()
            : type;
    }

    /// <summary>Inline for a served type on the spec's list, attachment otherwise.</summary>
    public static bool IsInline(string served) =>
        MediaTypeHeaderValue.TryParse(served, out var parsed) && parsed.MediaType is { } type && Inline.Contains(type);

    /// <summary>A Content-Disposition header value, with the file name when there is one (RFC 6266 filename*).</summary>
    public static string Disposition(bool inline, string? fileName)
    {
        var value = new ContentDispositionHeaderValue(inline ? "inline" : "attachment");
        if (!string.IsNullOrEmpty(fileName))
        {
            if (fileName.All(c => c is >= ' ' and < '\u007f' and not '"' and not '\\')) value.FileName = "\"" + fileName + "\"";
            else value.FileNameStar = fileName;
        }
        return value.ToString();
    }
}
