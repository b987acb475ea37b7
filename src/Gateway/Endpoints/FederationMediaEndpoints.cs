using System.Text;
using HomeServer.Gateway.Media;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace HomeServer.Gateway.Endpoints;

/// <summary>
/// This server's media for other servers (server-server API, "Content Repository"): <c>GET
/// /_matrix/federation/v1/media/download/{mediaId}</c> and <c>/thumbnail/{mediaId}</c>, behind the federation
/// authentication of their group. Both answer <c>multipart/mixed</c>: a JSON metadata part (an empty object) and the
/// content part with its <c>Content-Type</c> and <c>Content-Disposition</c>. Media rules are the local clients':
/// unknown or expired ids 404 <c>M_NOT_FOUND</c>, pending ones wait up to <c>timeout_ms</c> then 504
/// <c>M_NOT_YET_UPLOADED</c>, the same thumbnails (docs/adr/0043).
/// </summary>
internal static class FederationMediaEndpoints
{
    public static void MapFederationMediaEndpoints(this IEndpointRouteBuilder federation)
    {
        federation.MapGet("/v1/media/download/{mediaId}", DownloadAsync);
        federation.MapGet("/v1/media/thumbnail/{mediaId}", ThumbnailAsync);
    }

    private static async Task DownloadAsync(HttpContext context, string mediaId)
    {
        // Authenticated (by the server's signature): the freeze of unauthenticated media does not apply.
        var content = await MediaEndpoints.FindLocalContentAsync(context, mediaId, authenticated: true);
        // The type as uploaded: the requesting server decides how to serve it to its clients.
        var disposition = MediaContentTypes.Disposition(MediaContentTypes.IsInline(MediaContentTypes.Served(content.ContentType)), content.UploadName);
        await WriteMultipartAsync(context, content.Path, content.ContentType, disposition);
    }

    private static async Task ThumbnailAsync(HttpContext context, string mediaId)
    {
        var request = MediaEndpoints.ReadThumbnailRequest(context.Request.Query);
        var content = await MediaEndpoints.FindLocalContentAsync(context, mediaId, authenticated: true);
        var (path, contentType) = await MediaEndpoints.ThumbnailFileAsync(context, content, request);
        await WriteMultipartAsync(context, path, contentType, MediaContentTypes.Disposition(inline: true, "thumbnail." + contentType["image/".Length..]));
    }

    /// <summary>The two parts, the file streamed between the headers of its part and the closing delimiter.</summary>
    private static async Task WriteMultipartAsync(HttpContext context, string path, string contentType, string disposition)
    {
        var boundary = Guid.NewGuid().ToString("N");
        var head = Encoding.UTF8.GetBytes(
            $"--{boundary}\r\nContent-Type: application/json\r\n\r\n{{}}\r\n" +
            $"--{boundary}\r\nContent-Type: {contentType}\r\nContent-Disposition: {disposition}\r\n\r\n");
        var tail = Encoding.UTF8.GetBytes($"\r\n--{boundary}--\r\n");
        var response = context.Response;
        MediaEndpoints.SetSecurityHeaders(response, authenticated: true);
        response.ContentType = "multipart/mixed; boundary=" + boundary;
        response.ContentLength = head.Length + new FileInfo(path).Length + tail.Length;
        await response.Body.WriteAsync(head, context.RequestAborted);
        await response.SendFileAsync(path, context.RequestAborted);
        await response.Body.WriteAsync(tail, context.RequestAborted);
    }
}
