using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.Federation;

public sealed record FakeMedia(byte[] Bytes, string ContentType, string? FileName);

/// <summary>
/// A stand-in for another server's content repository, over HTTPS with the test CA's certificate: the federation
/// media download endpoint (or, without it, 404 <c>M_UNRECOGNIZED</c> as an older server answers), the deprecated
/// download endpoint and plain files for <c>Location</c> answers; the federation thumbnail endpoint answers the
/// thumbnails given (404 <c>M_NOT_FOUND</c> otherwise, or <c>M_UNRECOGNIZED</c> without the federation endpoints).
/// Answers may carry a <c>Cache-Control</c>. It counts what it is asked and checks nothing but the presence of an
/// <c>X-Matrix</c> signature.
/// </summary>
public sealed class FakeMediaServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Func<HttpContext, Task>> _answers = new();
    private readonly ConcurrentDictionary<string, FakeMedia> _media = new();
    private readonly ConcurrentDictionary<string, int> _requests = new();
    private readonly ConcurrentQueue<string> _federationQueries = new();
    private readonly ConcurrentQueue<string> _legacyQueries = new();
    private readonly ConcurrentDictionary<string, (FakeMedia Thumbnail, string? CacheControl)> _thumbnails = new();
    private readonly ConcurrentDictionary<string, int> _thumbnailRequests = new();
    private readonly ConcurrentQueue<string> _thumbnailQueries = new();
    private readonly TimeSpan _answerDelay;
    private readonly bool _federationEndpoints;
    private WebApplication _app = null!;
    private int _federationRequests;
    private int _legacyRequests;
    private int _locationRequests;
    private int _unsigned;

    private FakeMediaServer(TimeSpan answerDelay, bool federationEndpoints)
    {
        _answerDelay = answerDelay;
        _federationEndpoints = federationEndpoints;
    }

    /// <summary>The server name, <c>127.0.0.1:port</c>.</summary>
    public string Name { get; private set; } = "";

    public int FederationRequests => _federationRequests;

    public int LegacyRequests => _legacyRequests;

    public int LocationRequests => _locationRequests;

    public bool AllSigned => _unsigned == 0;

    public IReadOnlyCollection<string> FederationQueries => _federationQueries;

    public IReadOnlyCollection<string> LegacyQueries => _legacyQueries;

    public int RequestsFor(string mediaId) => _requests.GetValueOrDefault(mediaId);

    public int ThumbnailRequestsFor(string mediaId) => _thumbnailRequests.GetValueOrDefault(mediaId);

    public IReadOnlyCollection<string> ThumbnailQueries => _thumbnailQueries;

    public static async Task<FakeMediaServer> StartAsync(TestCertificateAuthority authority, TimeSpan? answerDelay = null, bool federationEndpoints = true)
    {
        var server = new FakeMediaServer(answerDelay ?? TimeSpan.Zero, federationEndpoints);
        var builder = WebApplication.CreateSlimBuilder();
        var certificate = X509Certificate2.CreateFromPemFile(authority.ServerCertificatePath, authority.ServerKeyPath);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        app.MapGet("/_matrix/federation/v1/media/download/{mediaId}", server.FederationDownloadAsync);
        app.MapGet("/_matrix/federation/v1/media/thumbnail/{mediaId}", server.FederationThumbnailAsync);
        app.MapGet("/_matrix/media/v3/download/{serverName}/{mediaId}", server.LegacyDownloadAsync);
        app.MapGet("/files/{mediaId}", server.FileAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        server.Name = $"127.0.0.1:{new Uri(address).Port}";
        server._app = app;
        return server;
    }

    /// <summary>The media in the multipart answer (streamed without a length) and on the deprecated endpoint.</summary>
    public void Serve(string mediaId, FakeMedia media, string? cacheControl = null)
    {
        _media[mediaId] = media;
        _answers[mediaId] = context =>
        {
            if (cacheControl is not null) context.Response.Headers.CacheControl = cacheControl;
            return WriteMultipartAsync(context, media, location: null);
        };
    }

    /// <summary>The thumbnail answered for every size asked of <paramref name="mediaId"/>.</summary>
    public void ServeThumbnail(string mediaId, FakeMedia thumbnail, string? cacheControl = null) => _thumbnails[mediaId] = (thumbnail, cacheControl);

    /// <summary>A multipart answer whose second part is a <c>Location</c> pointing at <c>/files/{mediaId}</c>.</summary>
    public void ServeByLocation(string mediaId, FakeMedia media)
    {
        _media[mediaId] = media;
        _answers[mediaId] = context => WriteMultipartAsync(context, media, location: $"https://{Name}/files/{mediaId}");
    }

    public void ServeRaw(string mediaId, string contentType, string body) => _answers[mediaId] = async context =>
    {
        context.Response.ContentType = contentType;
        await context.Response.WriteAsync(body);
    };

    public void ServeError(string mediaId, HttpStatusCode status, string errcode) => _answers[mediaId] = context => ErrorAsync(context, status, errcode);

    public static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task FederationDownloadAsync(HttpContext context, string mediaId)
    {
        Interlocked.Increment(ref _federationRequests);
        _requests.AddOrUpdate(mediaId, 1, (_, count) => count + 1);
        _federationQueries.Enqueue(context.Request.QueryString.Value?.TrimStart('?') ?? "");
        if (!context.Request.Headers.Authorization.ToString().StartsWith("X-Matrix ", StringComparison.Ordinal)) Interlocked.Increment(ref _unsigned);
        await Task.Delay(_answerDelay);
        if (!_federationEndpoints)
        {
            await ErrorAsync(context, HttpStatusCode.NotFound, "M_UNRECOGNIZED");
            return;
        }
        if (_answers.TryGetValue(mediaId, out var answer)) await answer(context);
        else await ErrorAsync(context, HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    private async Task FederationThumbnailAsync(HttpContext context, string mediaId)
    {
        _thumbnailRequests.AddOrUpdate(mediaId, 1, (_, count) => count + 1);
        _thumbnailQueries.Enqueue(context.Request.QueryString.Value?.TrimStart('?') ?? "");
        if (!context.Request.Headers.Authorization.ToString().StartsWith("X-Matrix ", StringComparison.Ordinal)) Interlocked.Increment(ref _unsigned);
        if (!_federationEndpoints)
        {
            await ErrorAsync(context, HttpStatusCode.NotFound, "M_UNRECOGNIZED");
            return;
        }
        if (!_thumbnails.TryGetValue(mediaId, out var answer))
        {
            await ErrorAsync(context, HttpStatusCode.NotFound, "M_NOT_FOUND");
            return;
        }
        if (answer.CacheControl is not null) context.Response.Headers.CacheControl = answer.CacheControl;
        await WriteMultipartAsync(context, answer.Thumbnail, location: null);
    }

    private async Task LegacyDownloadAsync(HttpContext context, string serverName, string mediaId)
    {
        Interlocked.Increment(ref _legacyRequests);
        _legacyQueries.Enqueue(context.Request.QueryString.Value?.TrimStart('?') ?? "");
        if (_media.TryGetValue(mediaId, out var media)) await WriteMediaAsync(context, media);
        else await ErrorAsync(context, HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    private async Task FileAsync(HttpContext context, string mediaId)
    {
        Interlocked.Increment(ref _locationRequests);
        if (_media.TryGetValue(mediaId, out var media)) await WriteMediaAsync(context, media);
        else context.Response.StatusCode = StatusCodes.Status404NotFound;
    }

    private static async Task WriteMediaAsync(HttpContext context, FakeMedia media)
    {
        context.Response.ContentType = media.ContentType;
        context.Response.Headers.ContentDisposition = Disposition(media);
        context.Response.ContentLength = media.Bytes.Length;
        await context.Response.Body.WriteAsync(media.Bytes);
    }

    private static async Task WriteMultipartAsync(HttpContext context, FakeMedia media, string? location)
    {
        const string boundary = "fake-boundary-7d1e";
        context.Response.ContentType = $"multipart/mixed; boundary=\"{boundary}\"";
        var contentHeaders = location is null
            ? $"Content-Type: {media.ContentType}\r\nContent-Disposition: {Disposition(media)}\r\n"
            : $"Location: {location}\r\n";
        // A preamble, which readers must skip.
        await context.Response.WriteAsync($"preamble\r\n--{boundary}\r\nContent-Type: application/json\r\n\r\n{{}}\r\n--{boundary}\r\n{contentHeaders}\r\n");
        if (location is null)
        {
            // In small writes, so that the reader sees the delimiter across reads.
            for (var offset = 0; offset < media.Bytes.Length; offset += 1000)
            {
                await context.Response.Body.WriteAsync(media.Bytes.AsMemory(offset, Math.Min(1000, media.Bytes.Length - offset)));
                await context.Response.Body.FlushAsync();
            }
        }
        await context.Response.WriteAsync($"\r\n--{boundary}--\r\n");
    }

    private static string Disposition(FakeMedia media)
    {
        var value = new ContentDispositionHeaderValue("attachment");
        if (media.FileName is not null) value.FileName = "\"" + media.FileName + "\"";
        return value.ToString();
    }

    private static async Task ErrorAsync(HttpContext context, HttpStatusCode status, string errcode)
    {
        context.Response.StatusCode = (int)status;
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes($"{{\"errcode\":\"{errcode}\",\"error\":\"fake\"}}"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
