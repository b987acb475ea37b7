namespace HomeServer.Gateway.Media;

/// <summary>The content repository's settings (configuration section <c>Media</c>).</summary>
public sealed class MediaOptions
{
    public const string SectionName = "Media";

    /// <summary>
    /// Where media files and thumbnails are kept. Defaults to <c>DataDirectory/media</c>; in a cluster it must be a
    /// directory every silo and gateway process shares (docs/adr/0019).
    /// </summary>
    public string? Directory { get; set; }

    /// <summary>The largest upload accepted, in bytes (413 M_TOO_LARGE beyond it); announced as m.upload.size.</summary>
    public long MaxUploadBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>How many created and not yet uploaded media ids one user may hold at once (429 M_LIMIT_EXCEEDED beyond).</summary>
    public int MaxPendingUploadsPerUser { get; set; } = 10;

    /// <summary>How long a media id from POST /media/v1/create stays usable without content (the spec recommends 24 hours).</summary>
    public TimeSpan UnusedIdLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Images with more pixels than this are not thumbnailed (413 M_TOO_LARGE), so decoding cannot exhaust memory.</summary>
    public long MaxThumbnailSourcePixels { get; set; } = 50_000_000;

    /// <summary>
    /// The spec's freeze of unauthenticated media: when set, the unauthenticated download and thumbnail endpoints
    /// answer 404 M_NOT_FOUND for media created at or after this time. Media from before keeps being served there.
    /// </summary>
    public DateTimeOffset? UnauthenticatedMediaFrozenAt { get; set; }

    /// <summary>How long a download of pending media waits for its upload at most, whatever timeout_ms asks.</summary>
    public TimeSpan MaxNotYetUploadedWait { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// The most bytes other servers' media may take in the cache (originals and their thumbnails from the origin);
    /// past it the least recently used are evicted and fetched again when asked for (docs/adr/0049). Local media is
    /// never evicted.
    /// </summary>
    public long RemoteCacheMaxBytes { get; set; } = 10L * 1024 * 1024 * 1024;

    public UrlPreviewOptions UrlPreview { get; set; } = new();

    /// <summary>Whether the freeze hides media created at <paramref name="createdAt"/> (ms) from the unauthenticated endpoints.</summary>
    public bool HidesUnauthenticated(long createdAt) =>
        UnauthenticatedMediaFrozenAt is { } frozenAt && createdAt >= frozenAt.ToUnixTimeMilliseconds();
}

/// <summary>URL previews (configuration section <c>Media:UrlPreview</c>).</summary>
public sealed class UrlPreviewOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Networks (CIDR, e.g. <c>192.168.1.0/24</c>) previews may reach although they are private, loopback, link-local or
    /// otherwise not public. Empty by default: only public addresses are fetched.
    /// </summary>
    public List<string> AllowedNetworks { get; set; } = [];

    /// <summary>At most this many bytes of a page are read; OpenGraph tags beyond are not seen.</summary>
    public int MaxPageBytes { get; set; } = 1024 * 1024;

    /// <summary>The largest preview image stored in the content repository (larger ones are left out of the preview).</summary>
    public int MaxImageBytes { get; set; } = 5 * 1024 * 1024;

    /// <summary>The whole fetch (redirects included) must finish within this time.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    public int MaxRedirects { get; set; } = 5;
}
