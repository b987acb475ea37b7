using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using HomeServer.Server.Tests.Infrastructure;

namespace HomeServer.Server.Tests.Media;

/// <summary>A client of the content repository, with full paths (media and client prefixes differ).</summary>
public sealed class MediaClient(HttpClient http, TestUser user)
{
    public const string Media = "/_matrix/media/v3";
    public const string Authenticated = "/_matrix/client/v1/media";

    public TestUser User { get; } = user;

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content = null, bool authenticated = true)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (authenticated) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", User.AccessToken);
        return await http.SendAsync(request);
    }

    public static ByteArrayContent Bytes(byte[] bytes, string? contentType)
    {
        var content = new ByteArrayContent(bytes);
        if (contentType is not null) content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    /// <summary>POST /upload; returns the media id of the mxc URI after checking its server name.</summary>
    public async Task<string> UploadAsync(byte[] bytes, string? contentType, string? fileName = null)
    {
        var path = Media + "/upload" + (fileName is null ? "" : "?filename=" + Uri.EscapeDataString(fileName));
        using var response = await SendAsync(HttpMethod.Post, path, Bytes(bytes, contentType));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return MediaId((await response.ReadJsonAsync()).GetProperty("content_uri").GetString()!);
    }

    public async Task<JsonElement> OkJsonAsync(HttpMethod method, string path, HttpContent? content = null)
    {
        using var response = await SendAsync(method, path, content);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.ReadJsonAsync();
    }

    public async Task FailsAsync(HttpMethod method, string path, HttpContent? content, HttpStatusCode status, string errcode, bool authenticated = true)
    {
        using var response = await SendAsync(method, path, content, authenticated);
        await response.AssertErrorAsync(status, errcode);
    }

    /// <summary>The media id of <c>mxc://localhost/{id}</c>.</summary>
    public static string MediaId(string contentUri)
    {
        Assert.StartsWith("mxc://localhost/", contentUri);
        var id = contentUri["mxc://localhost/".Length..];
        Assert.Matches("^[A-Za-z0-9_-]+$", id);
        return id;
    }
}
