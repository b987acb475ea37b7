using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using AngleSharp.Html.Parser;
using Microsoft.Extensions.Options;

namespace HomeServer.Gateway.Media;

/// <summary>What a page says about itself: its OpenGraph properties, and the URL of its image if it names one.</summary>
public sealed record PagePreview(IReadOnlyDictionary<string, string> Properties, Uri? ImageUrl);

/// <summary>A fetched image: its bytes (within the size limit) and declared type.</summary>
public sealed record FetchedImage(byte[] Bytes, string ContentType);

/// <summary>
/// Fetches pages for URL previews. Every connection, including those that follow redirects, resolves the host
/// itself and refuses when any of its addresses is not allowed by <see cref="PreviewNetworkPolicy"/>, then connects to
/// exactly the addresses it checked; no proxy is used. Reads at most the configured bytes within the configured time.
/// </summary>
public sealed class UrlPreviewer : IDisposable
{
    private readonly HttpClient _client;
    private readonly UrlPreviewOptions _options;

    public UrlPreviewer(PreviewNetworkPolicy policy, IOptions<MediaOptions> options)
    {
        _options = options.Value.UrlPreview;
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = true,
            MaxAutomaticRedirections = Math.Max(1, _options.MaxRedirects),
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            ConnectCallback = (context, cancellationToken) => ConnectAsync(policy, context.DnsEndPoint, cancellationToken),
        };
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("HomeServer-UrlPreview", "1.0"));
    }

    public async Task<PagePreview> PreviewAsync(Uri url, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        using var response = await _client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        response.EnsureSuccessStatusCode();
        var finalUrl = response.RequestMessage?.RequestUri ?? url;
        var mediaType = response.Content.Headers.ContentType?.MediaType ?? "";
        if (mediaType.StartsWith("image/", StringComparison.OrdinalIgnoreCase))
            return new PagePreview(new Dictionary<string, string>(), finalUrl);
        if (!mediaType.Contains("html", StringComparison.OrdinalIgnoreCase)) return new PagePreview(new Dictionary<string, string>(), null);
        var (bytes, _) = await ReadLimitedAsync(response, _options.MaxPageBytes, timeout.Token);
        var charset = response.Content.Headers.ContentType?.CharSet;
        return OpenGraph.Read(Decode(bytes, charset), finalUrl);
    }

    /// <summary>The image at <paramref name="url"/>, or null when it is not an image or larger than the limit.</summary>
    public async Task<FetchedImage?> FetchImageAsync(Uri url, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        using var response = await _client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        if (!response.IsSuccessStatusCode) return null;
        var type = response.Content.Headers.ContentType?.MediaType;
        if (type is null || !type.StartsWith("image/", StringComparison.OrdinalIgnoreCase)) return null;
        var (bytes, complete) = await ReadLimitedAsync(response, _options.MaxImageBytes, timeout.Token);
        return complete ? new FetchedImage(bytes, type) : null;
    }

    private static async Task<(byte[] Bytes, bool Complete)> ReadLimitedAsync(HttpResponseMessage response, int maxBytes, CancellationToken cancellationToken)
    {
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[maxBytes + 1];
        var length = 0;
        int read;
        while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0) length += read;
        var complete = length <= maxBytes;
        return (buffer.AsSpan(0, Math.Min(length, maxBytes)).ToArray(), complete);
    }

    private static string Decode(byte[] bytes, string? charset)
    {
        try
        {
            if (!string.IsNullOrEmpty(charset)) return Encoding.GetEncoding(charset.Trim('"')).GetString(bytes);
        }
        catch (ArgumentException)
        {
            // An unknown charset: read as UTF-8.
        }
        return Encoding.UTF8.GetString(bytes);
    }

    private static async ValueTask<Stream> ConnectAsync(PreviewNetworkPolicy policy, DnsEndPoint endPoint, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(endPoint.Host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(endPoint.Host, cancellationToken);
        // Refused when any address is not allowed: a name that points at both a public and a private address is
        // how DNS rebinding reaches inside.
        if (addresses.Length == 0 || !addresses.All(policy.IsAllowed)) throw new PreviewAddressRefusedException(endPoint.Host);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, endPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose() => _client.Dispose();
}

/// <summary>Reads the OpenGraph properties of an HTML page, with the page's title and description when it has none.</summary>
public static class OpenGraph
{
    private const int MaxValueLength = 1000;

    public static PagePreview Read(string html, Uri pageUrl)
    {
        using var document = new HtmlParser().ParseDocument(html);
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var meta in document.QuerySelectorAll("meta[property^='og:'], meta[name^='og:']"))
        {
            var name = meta.GetAttribute("property") ?? meta.GetAttribute("name");
            var content = meta.GetAttribute("content");
            if (name is null || content is null) continue;
            properties.TryAdd(name, Truncate(content.Trim()));
        }
        if (!properties.ContainsKey("og:title") && document.Title is { Length: > 0 } title) properties["og:title"] = Truncate(title.Trim());
        if (!properties.ContainsKey("og:description")
            && document.QuerySelector("meta[name='description']")?.GetAttribute("content") is { Length: > 0 } description)
            properties["og:description"] = Truncate(description.Trim());

        Uri? image = null;
        if (properties.Remove("og:image", out var imageValue)
            && Uri.TryCreate(pageUrl, imageValue, out var resolved) && resolved.Scheme is "http" or "https")
            image = resolved;
        // Image details describe the remote image; the preview describes the stored copy instead.
        foreach (var key in properties.Keys.Where(k => k.StartsWith("og:image", StringComparison.Ordinal)).ToList()) properties.Remove(key);
        return new PagePreview(properties, image);
    }

    private static string Truncate(string value) => value.Length <= MaxValueLength ? value : value[..MaxValueLength];
}
