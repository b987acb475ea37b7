using System.Net;
using System.Text;
using System.Text.Json;
using HomeServer.Gateway.Media;
using HomeServer.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SkiaSharp;

namespace HomeServer.Server.Tests.Media;

/// <summary>The content repository as a client sees it (content-repo.yaml, authed-content-repo.yaml).</summary>
public abstract class MediaTests(MediaServerFixture fixture)
{
    private static readonly HttpMethod Get = HttpMethod.Get;
    private static readonly HttpMethod Post = HttpMethod.Post;
    private static readonly HttpMethod Put = HttpMethod.Put;
    private const string M = MediaClient.Media;
    private const string A = MediaClient.Authenticated;

    private RunningServer Server => fixture.Server;

    private async Task<MediaClient> UserAsync(string name) => new(Server.Client, await TestUsers.CreateAsync(Server, name));

    private static async Task<byte[]> BytesAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadAsByteArrayAsync();
    }

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values)
        : response.Content.Headers.TryGetValues(name, out var contentValues) ? string.Join(",", contentValues)
        : throw new Xunit.Sdk.XunitException($"No {name} header.");

    [Fact]
    public async Task Uploaded_bytes_come_back_with_their_type_name_and_the_safety_headers()
    {
        var alice = await UserAsync("alice");
        var bytes = Encoding.UTF8.GetBytes("héllo, media\n");
        var id = await alice.UploadAsync(bytes, "text/plain; charset=utf-8", "notes.txt");

        foreach (var (path, authenticated) in new[] { ($"{M}/download/localhost/{id}", false), ($"{A}/download/localhost/{id}", true) })
        {
            using var response = await alice.SendAsync(Get, path, authenticated: authenticated);
            Assert.Equal(bytes, await BytesAsync(response));
            Assert.Equal("text/plain; charset=utf-8", Header(response, "Content-Type"));
            Assert.Equal("inline; filename=\"notes.txt\"", Header(response, "Content-Disposition"));
            Assert.StartsWith("sandbox;", Header(response, "Content-Security-Policy"));
            Assert.Contains("default-src 'none'", Header(response, "Content-Security-Policy"));
            Assert.Equal("cross-origin", Header(response, "Cross-Origin-Resource-Policy"));
            Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
            Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
        }

        // The file name in the path replaces the uploaded one.
        using (var renamed = await alice.SendAsync(Get, $"{A}/download/localhost/{id}/other%20name.txt"))
        {
            Assert.Equal(bytes, await BytesAsync(renamed));
            Assert.Equal("inline; filename=\"other name.txt\"", Header(renamed, "Content-Disposition"));
        }
        using (var renamed = await alice.SendAsync(Get, $"{M}/download/localhost/{id}/r%C3%A9sum%C3%A9.txt", authenticated: false))
            Assert.Equal("inline; filename*=utf-8''r%C3%A9sum%C3%A9.txt", Header(renamed, "Content-Disposition"));

        // Authenticated media needs an access token; the deprecated path does not.
        await alice.FailsAsync(Get, $"{A}/download/localhost/{id}", null, HttpStatusCode.Unauthorized, "M_MISSING_TOKEN", authenticated: false);
        await alice.FailsAsync(Get, $"{A}/download/localhost/{id}/x.txt", null, HttpStatusCode.Unauthorized, "M_MISSING_TOKEN", authenticated: false);
    }

    [Theory]
    [InlineData("text/html", "application/octet-stream")]
    [InlineData("image/svg+xml", "application/octet-stream")]
    [InlineData("application/pdf", "application/octet-stream")]
    [InlineData(null, "application/octet-stream")]
    [InlineData("IMAGE/PNG", "image/png")]
    [InlineData("video/mp4", "video/mp4")]
    public async Task Only_types_on_the_safe_list_are_served_as_uploaded_and_inline(string? uploaded, string served)
    {
        var alice = await UserAsync("alice");
        var id = await alice.UploadAsync("<script>alert(1)</script>"u8.ToArray(), uploaded, "file");
        using var response = await alice.SendAsync(Get, $"{A}/download/localhost/{id}");
        await BytesAsync(response);
        Assert.Equal(served, Header(response, "Content-Type"));
        var inline = served != "application/octet-stream";
        Assert.Equal((inline ? "inline" : "attachment") + "; filename=\"file\"", Header(response, "Content-Disposition"));
    }

    [Fact]
    public async Task Download_without_an_uploaded_file_name_has_no_file_name()
    {
        var alice = await UserAsync("alice");
        var id = await alice.UploadAsync([1, 2, 3], "image/png");
        using var response = await alice.SendAsync(Get, $"{A}/download/localhost/{id}");
        await BytesAsync(response);
        Assert.Equal("inline", Header(response, "Content-Disposition"));
    }

    [Fact]
    public async Task Created_ids_take_one_upload_from_their_creator()
    {
        var alice = await UserAsync("alice");
        var bob = await UserAsync("bob");
        var created = await alice.OkJsonAsync(Post, "/_matrix/media/v1/create", new StringContent("{}", Encoding.UTF8, "application/json"));
        var id = MediaClient.MediaId(created.GetProperty("content_uri").GetString()!);
        var expiresAt = DateTimeOffset.FromUnixTimeMilliseconds(created.GetProperty("unused_expires_at").GetInt64());
        Assert.InRange(expiresAt, DateTimeOffset.UtcNow.AddHours(23), DateTimeOffset.UtcNow.AddHours(25));

        // Not uploaded yet: a client that will not wait is told so.
        await alice.FailsAsync(Get, $"{A}/download/localhost/{id}?timeout_ms=0", null, HttpStatusCode.GatewayTimeout, "M_NOT_YET_UPLOADED");

        var bytes = Encoding.UTF8.GetBytes("late content");
        await bob.FailsAsync(Put, $"{M}/upload/localhost/{id}", MediaClient.Bytes(bytes, "text/plain"), HttpStatusCode.Forbidden, "M_FORBIDDEN");
        await alice.FailsAsync(Put, $"{M}/upload/other.example/{id}", MediaClient.Bytes(bytes, "text/plain"), HttpStatusCode.NotFound, "M_NOT_FOUND");
        await alice.FailsAsync(Put, $"{M}/upload/localhost/AAAAAAAAAAAAAAAAAAAAAAAA", MediaClient.Bytes(bytes, "text/plain"), HttpStatusCode.NotFound, "M_NOT_FOUND");

        // A download waiting for the content receives it once it is uploaded.
        var waiting = alice.SendAsync(Get, $"{A}/download/localhost/{id}?timeout_ms=10000");
        await Task.Delay(300);
        Assert.Equal("{}", (await alice.OkJsonAsync(Put, $"{M}/upload/localhost/{id}?filename=late.txt", MediaClient.Bytes(bytes, "text/plain"))).GetRawText());
        using (var response = await waiting)
        {
            Assert.Equal(bytes, await BytesAsync(response));
            Assert.Equal("inline; filename=\"late.txt\"", Header(response, "Content-Disposition"));
        }

        await alice.FailsAsync(Put, $"{M}/upload/localhost/{id}", MediaClient.Bytes("other"u8.ToArray(), "text/plain"),
            HttpStatusCode.Conflict, "M_CANNOT_OVERWRITE_MEDIA");
        await bob.FailsAsync(Put, $"{M}/upload/localhost/{id}", MediaClient.Bytes("other"u8.ToArray(), "text/plain"),
            HttpStatusCode.Forbidden, "M_FORBIDDEN");
        using (var response = await bob.SendAsync(Get, $"{M}/download/localhost/{id}", authenticated: false))
            Assert.Equal(bytes, await BytesAsync(response));

        // Media uploaded in one step cannot be uploaded to either.
        var direct = await alice.UploadAsync([1], "text/plain");
        await alice.FailsAsync(Put, $"{M}/upload/localhost/{direct}", MediaClient.Bytes([2], "text/plain"), HttpStatusCode.Conflict, "M_CANNOT_OVERWRITE_MEDIA");
    }

    [Fact]
    public async Task A_user_may_hold_only_a_few_pending_ids()
    {
        var alice = await UserAsync("alice");
        var ids = new List<string>();
        for (var i = 0; i < MediaTestSettings.MaxPendingUploads; i++)
            ids.Add(MediaClient.MediaId((await alice.OkJsonAsync(Post, "/_matrix/media/v1/create")).GetProperty("content_uri").GetString()!));
        await alice.FailsAsync(Post, "/_matrix/media/v1/create", null, HttpStatusCode.TooManyRequests, "M_LIMIT_EXCEEDED");

        // Another user has their own allowance; uploading one frees a place.
        var bob = await UserAsync("bob");
        await bob.OkJsonAsync(Post, "/_matrix/media/v1/create");
        await alice.OkJsonAsync(Put, $"{M}/upload/localhost/{ids[0]}", MediaClient.Bytes([1], "text/plain"));
        await alice.OkJsonAsync(Post, "/_matrix/media/v1/create");
        await alice.FailsAsync(Post, "/_matrix/media/v1/create", null, HttpStatusCode.TooManyRequests, "M_LIMIT_EXCEEDED");
    }

    [Fact]
    public async Task Uploads_over_the_size_limit_are_refused_and_not_stored()
    {
        var alice = await UserAsync("alice");
        foreach (var config in new[] { $"{M}/config", $"{A}/config" })
        {
            Assert.Equal(MediaTestSettings.MaxUploadBytes, (await alice.OkJsonAsync(Get, config)).GetProperty("m.upload.size").GetInt64());
            await alice.FailsAsync(Get, config, null, HttpStatusCode.Unauthorized, "M_MISSING_TOKEN", authenticated: false);
        }

        var filesBefore = ContentFileCount();
        var tooLarge = new byte[MediaTestSettings.MaxUploadBytes + 1];
        await alice.FailsAsync(Post, $"{M}/upload", MediaClient.Bytes(tooLarge, "application/octet-stream"), HttpStatusCode.RequestEntityTooLarge, "M_TOO_LARGE");
        // Without a Content-Length (chunked), the limit is applied while reading.
        var chunked = new StreamContent(new MemoryStream(tooLarge));
        chunked.Headers.ContentType = new("application/octet-stream");
        using (var request = new HttpRequestMessage(Post, $"{M}/upload") { Content = chunked })
        {
            request.Headers.TransferEncodingChunked = true;
            request.Headers.Authorization = new("Bearer", alice.User.AccessToken);
            using var response = await Server.Client.SendAsync(request);
            await response.AssertErrorAsync(HttpStatusCode.RequestEntityTooLarge, "M_TOO_LARGE");
        }
        var created = MediaClient.MediaId((await alice.OkJsonAsync(Post, "/_matrix/media/v1/create")).GetProperty("content_uri").GetString()!);
        await alice.FailsAsync(Put, $"{M}/upload/localhost/{created}", MediaClient.Bytes(tooLarge, "text/plain"), HttpStatusCode.RequestEntityTooLarge, "M_TOO_LARGE");
        await alice.FailsAsync(Get, $"{A}/download/localhost/{created}?timeout_ms=0", null, HttpStatusCode.GatewayTimeout, "M_NOT_YET_UPLOADED");
        Assert.Equal(filesBefore, ContentFileCount());

        // Exactly the limit is fine.
        var largest = new byte[MediaTestSettings.MaxUploadBytes];
        Random.Shared.NextBytes(largest);
        var id = await alice.UploadAsync(largest, "application/octet-stream");
        using var download = await alice.SendAsync(Get, $"{A}/download/localhost/{id}");
        Assert.Equal(largest, await BytesAsync(download));
    }

    [Fact]
    public async Task Uploading_needs_an_access_token_and_sane_parameters()
    {
        var alice = await UserAsync("alice");
        await alice.FailsAsync(Post, $"{M}/upload", MediaClient.Bytes([1], "text/plain"), HttpStatusCode.Unauthorized, "M_MISSING_TOKEN", authenticated: false);
        await alice.FailsAsync(Post, "/_matrix/media/v1/create", null, HttpStatusCode.Unauthorized, "M_MISSING_TOKEN", authenticated: false);
        await alice.FailsAsync(Post, $"{M}/upload?filename=" + new string('a', 300), MediaClient.Bytes([1], "text/plain"),
            HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        // An empty body is an empty file.
        var empty = await alice.UploadAsync([], "text/plain");
        using var response = await alice.SendAsync(Get, $"{A}/download/localhost/{empty}");
        Assert.Empty(await BytesAsync(response));
    }

    [Fact]
    public async Task Unknown_and_remote_media_is_not_found()
    {
        var alice = await UserAsync("alice");
        var id = await alice.UploadAsync([1, 2], "image/png");
        foreach (var prefix in new[] { $"{M}/download", $"{A}/download", $"{M}/thumbnail", $"{A}/thumbnail" })
        {
            var query = prefix.EndsWith("thumbnail") ? "?width=32&height=32" : "";
            await alice.FailsAsync(Get, $"{prefix}/localhost/AAAAAAAAAAAAAAAAAAAAAAAA{query}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
            await alice.FailsAsync(Get, $"{prefix}/localhost/..%2F..%2Fetc{query}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
            // Another server's media is fetched over federation (Federation/FederationMediaTests); not when the
            // deprecated endpoints are told not to, and never for a name that is not a server name.
            if (prefix.StartsWith(M))
            {
                var noRemote = (query.Length == 0 ? "?" : query + "&") + "allow_remote=false";
                await alice.FailsAsync(Get, $"{prefix}/matrix.org/{id}{noRemote}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
            }
            await alice.FailsAsync(Get, $"{prefix}/not_a_server!/{id}{query}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        }
    }

    [Fact]
    public async Task Thumbnails_scale_or_crop_to_the_preferred_sizes()
    {
        var alice = await UserAsync("alice");
        // 1000×500: a green band on the left fifth, blue elsewhere.
        var png = await alice.UploadAsync(TestImages.Banded(1000, 500, 200, SKEncodedImageFormat.Png), "image/png");
        var jpeg = await alice.UploadAsync(TestImages.Banded(1000, 500, 200, SKEncodedImageFormat.Jpeg), "image/jpeg");

        // scale keeps the whole picture in the smallest preferred size that covers the request: 320×240 → 320×160.
        using (var scaled = await alice.SendAsync(Get, $"{A}/thumbnail/localhost/{png}?width=300&height=200&method=scale"))
        {
            using var image = TestImages.Decode(await BytesAsync(scaled));
            Assert.Equal((320, 160), (image.Width, image.Height));
            Assert.True(TestImages.IsGreen(image.GetPixel(5, 80)));
            Assert.True(TestImages.IsBlue(image.GetPixel(300, 80)));
            Assert.Equal("image/png", Header(scaled, "Content-Type"));
            Assert.Equal("inline; filename=\"thumbnail.png\"", Header(scaled, "Content-Disposition"));
            Assert.StartsWith("sandbox;", Header(scaled, "Content-Security-Policy"));
        }
        // crop fills the size and cuts the sides: the centred square of a wide image has no green band.
        using (var cropped = await alice.SendAsync(Get, $"{A}/thumbnail/localhost/{png}?width=60&height=60&method=crop"))
        {
            using var image = TestImages.Decode(await BytesAsync(cropped));
            Assert.Equal((96, 96), (image.Width, image.Height));
            Assert.True(TestImages.IsBlue(image.GetPixel(1, 48)));
        }
        // The smallest size, the largest (asked larger), and the default method (scale).
        using (var tiny = await alice.SendAsync(Get, $"{M}/thumbnail/localhost/{png}?width=10&height=10&method=crop", authenticated: false))
        using (var image = TestImages.Decode(await BytesAsync(tiny))) Assert.Equal((32, 32), (image.Width, image.Height));
        using (var large = await alice.SendAsync(Get, $"{A}/thumbnail/localhost/{png}?width=5000&height=5000"))
        using (var image = TestImages.Decode(await BytesAsync(large))) Assert.Equal((800, 400), (image.Width, image.Height));

        // A JPEG gives a JPEG thumbnail.
        using (var fromJpeg = await alice.SendAsync(Get, $"{A}/thumbnail/localhost/{jpeg}?width=640&height=480&method=scale"))
        {
            var bytes = await BytesAsync(fromJpeg);
            Assert.Equal("image/jpeg", Header(fromJpeg, "Content-Type"));
            using var image = TestImages.Decode(bytes);
            Assert.Equal((640, 320), (image.Width, image.Height));
        }

        // A small image is never enlarged.
        var small = await alice.UploadAsync(TestImages.Banded(50, 20, 10, SKEncodedImageFormat.Png), "image/png");
        using (var response = await alice.SendAsync(Get, $"{A}/thumbnail/localhost/{small}?width=320&height=240"))
        using (var image = TestImages.Decode(await BytesAsync(response))) Assert.Equal((50, 20), (image.Width, image.Height));
    }

    [Fact]
    public async Task A_thumbnail_is_generated_once_and_then_served_from_its_file()
    {
        var alice = await UserAsync("alice");
        var id = await alice.UploadAsync(TestImages.Banded(400, 300, 100, SKEncodedImageFormat.Png), "image/png");
        var path = $"{A}/thumbnail/localhost/{id}?width=96&height=96&method=crop";

        // Concurrent first requests wait for one generation.
        var first = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            using var response = await alice.SendAsync(Get, path);
            return await BytesAsync(response);
        }));
        var files = ThumbnailFiles(id);
        var file = Assert.Single(files);
        var written = File.GetLastWriteTimeUtc(file);
        Assert.All(first, bytes => Assert.Equal(File.ReadAllBytes(file), bytes));

        await Task.Delay(50);
        using (var again = await alice.SendAsync(Get, path)) Assert.Equal(first[0], await BytesAsync(again));
        // Another request that maps to the same preferred size uses the same file.
        using (var same = await alice.SendAsync(Get, $"{M}/thumbnail/localhost/{id}?width=90&height=40&method=crop", authenticated: false))
            Assert.Equal(first[0], await BytesAsync(same));
        Assert.Equal(written, File.GetLastWriteTimeUtc(Assert.Single(ThumbnailFiles(id))));

        using (var scaled = await alice.SendAsync(Get, $"{A}/thumbnail/localhost/{id}?width=320&height=240")) await BytesAsync(scaled);
        Assert.Equal(2, ThumbnailFiles(id).Length);
    }

    [Fact]
    public async Task Animated_images_give_their_first_frame_or_themselves_when_animation_is_asked_for()
    {
        var alice = await UserAsync("alice");
        var gif = TestImages.AnimatedGif();
        var id = await alice.UploadAsync(gif, "image/gif");

        using (var still = await alice.SendAsync(Get, $"{A}/thumbnail/localhost/{id}?width=32&height=32&method=scale"))
        {
            Assert.Equal("image/png", Header(still, "Content-Type"));
            using var image = TestImages.Decode(await BytesAsync(still));
            Assert.Equal((1, 1), (image.Width, image.Height));
            Assert.Equal(SKColors.Red, image.GetPixel(0, 0));
        }
        using (var animated = await alice.SendAsync(Get, $"{A}/thumbnail/localhost/{id}?width=32&height=32&animated=true"))
        {
            Assert.Equal(gif, await BytesAsync(animated));
            Assert.Equal("image/gif", Header(animated, "Content-Type"));
            Assert.Equal("inline; filename=\"thumbnail.gif\"", Header(animated, "Content-Disposition"));
        }
        // animated=true on an image that cannot move is a still thumbnail.
        var png = await alice.UploadAsync(TestImages.Banded(100, 100, 10, SKEncodedImageFormat.Png), "image/png");
        using (var response = await alice.SendAsync(Get, $"{A}/thumbnail/localhost/{png}?width=32&height=32&method=crop&animated=true"))
        using (var image = TestImages.Decode(await BytesAsync(response))) Assert.Equal((32, 32), (image.Width, image.Height));
    }

    [Fact]
    public async Task Thumbnail_requests_that_make_no_sense_are_refused()
    {
        var alice = await UserAsync("alice");
        var png = await alice.UploadAsync(TestImages.Banded(100, 100, 10, SKEncodedImageFormat.Png), "image/png");
        var t = $"{A}/thumbnail/localhost/{png}";
        await alice.FailsAsync(Get, t + "?height=32", null, HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await alice.FailsAsync(Get, t + "?width=32", null, HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await alice.FailsAsync(Get, t + "?width=0&height=32", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, t + "?width=-5&height=32", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, t + "?width=abc&height=32", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, t + "?width=32&height=99999999999", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, t + "?width=32&height=32&method=stretch", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, t + "?width=32&height=32&animated=yes", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        // Authenticated media asks for the token first, whatever the parameters; the deprecated path needs none.
        await alice.FailsAsync(Get, t + "?width=0&height=32", null, HttpStatusCode.Unauthorized, "M_MISSING_TOKEN", authenticated: false);
        using (var open = await alice.SendAsync(Get, $"{M}/thumbnail/localhost/{png}?width=32&height=32", authenticated: false)) await BytesAsync(open);

        // Content that is no image, or claims to be one and is not.
        var text = await alice.UploadAsync("plain"u8.ToArray(), "text/plain");
        await alice.FailsAsync(Get, $"{A}/thumbnail/localhost/{text}?width=32&height=32", null, HttpStatusCode.BadRequest, "M_UNKNOWN");
        var fake = await alice.UploadAsync("not a png at all"u8.ToArray(), "image/png");
        await alice.FailsAsync(Get, $"{A}/thumbnail/localhost/{fake}?width=32&height=32", null, HttpStatusCode.BadRequest, "M_UNKNOWN");
        var svg = await alice.UploadAsync("<svg xmlns='http://www.w3.org/2000/svg'/>"u8.ToArray(), "image/svg+xml");
        await alice.FailsAsync(Get, $"{A}/thumbnail/localhost/{svg}?width=32&height=32", null, HttpStatusCode.BadRequest, "M_UNKNOWN");
    }

    [Fact]
    public async Task Images_with_too_many_pixels_are_not_thumbnailed_but_still_downloadable()
    {
        var alice = await UserAsync("alice");
        // 3000×2000 = 6 million pixels, over the 5 million allowed here; a flat PNG is small enough to upload.
        var huge = TestImages.Banded(3000, 2000, 3000, SKEncodedImageFormat.Png);
        Assert.True(huge.Length < MediaTestSettings.MaxUploadBytes);
        var id = await alice.UploadAsync(huge, "image/png");
        await alice.FailsAsync(Get, $"{A}/thumbnail/localhost/{id}?width=32&height=32&method=crop", null, HttpStatusCode.RequestEntityTooLarge, "M_TOO_LARGE");
        Assert.Empty(ThumbnailFiles(id));
        using var download = await alice.SendAsync(Get, $"{A}/download/localhost/{id}");
        Assert.Equal(huge, await BytesAsync(download));
    }

    [Fact]
    public async Task Url_previews_read_OpenGraph_and_store_the_image()
    {
        await using var site = await PreviewSite.StartAsync();
        var alice = await UserAsync("alice");
        foreach (var prefix in new[] { A, M })
        {
            var preview = await alice.OkJsonAsync(Get, $"{prefix}/preview_url?url={Uri.EscapeDataString(site.Url("/article"))}&ts=1");
            Assert.Equal("Matrix Blog Post", preview.GetProperty("og:title").GetString());
            Assert.Equal("This is a really cool blog post", preview.GetProperty("og:description").GetString());
            Assert.Equal("image/png", preview.GetProperty("og:image:type").GetString());
            Assert.Equal(PreviewSite.Image.Length, preview.GetProperty("matrix:image:size").GetInt64());
            Assert.Equal(64, preview.GetProperty("og:image:width").GetInt32());
            Assert.Equal(48, preview.GetProperty("og:image:height").GetInt32());
            var imageId = MediaClient.MediaId(preview.GetProperty("og:image").GetString()!);
            using var image = await alice.SendAsync(Get, $"{A}/download/localhost/{imageId}");
            Assert.Equal(PreviewSite.Image, await BytesAsync(image));
        }

        // Without OpenGraph tags, the title and description of the page; redirects within allowed networks are followed.
        var plain = await alice.OkJsonAsync(Get, $"{A}/preview_url?url={Uri.EscapeDataString(site.Url("/plain"))}");
        Assert.Equal("Only a title", plain.GetProperty("og:title").GetString());
        Assert.Equal("Described", plain.GetProperty("og:description").GetString());
        Assert.False(plain.TryGetProperty("og:image", out _));
        var redirected = await alice.OkJsonAsync(Get, $"{A}/preview_url?url={Uri.EscapeDataString(site.Url("/to-article"))}");
        Assert.Equal("Matrix Blog Post", redirected.GetProperty("og:title").GetString());

        // An image on a private address is left out, the rest of the preview is kept.
        var inside = await alice.OkJsonAsync(Get, $"{A}/preview_url?url={Uri.EscapeDataString(site.Url("/private-image"))}");
        Assert.Equal("Inside", inside.GetProperty("og:title").GetString());
        Assert.False(inside.TryGetProperty("og:image", out _));
    }

    [Fact]
    public async Task Url_previews_keep_to_their_limits()
    {
        await using var site = await PreviewSite.StartAsync();
        var alice = await UserAsync("alice");
        // A redirect to a private address is refused although the first address was allowed.
        await alice.FailsAsync(Get, $"{A}/preview_url?url={Uri.EscapeDataString(site.Url("/to-private"))}", null, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        // Tags beyond the bytes read are not seen.
        var huge = await alice.OkJsonAsync(Get, $"{A}/preview_url?url={Uri.EscapeDataString(site.Url("/huge"))}");
        Assert.False(huge.TryGetProperty("og:title", out _));
        // A page slower than the time limit.
        var started = DateTimeOffset.UtcNow;
        await alice.FailsAsync(Get, $"{A}/preview_url?url={Uri.EscapeDataString(site.Url("/slow"))}", null, HttpStatusCode.BadGateway, "M_UNKNOWN");
        Assert.InRange(DateTimeOffset.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(8));

        await alice.FailsAsync(Get, $"{A}/preview_url", null, HttpStatusCode.BadRequest, "M_MISSING_PARAM");
        await alice.FailsAsync(Get, $"{A}/preview_url?url=ftp%3A%2F%2F127.0.0.1%2F", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, $"{A}/preview_url?url=not-a-url", null, HttpStatusCode.BadRequest, "M_INVALID_PARAM");
        await alice.FailsAsync(Get, $"{A}/preview_url?url={Uri.EscapeDataString(site.Url("/article"))}", null, HttpStatusCode.Unauthorized, "M_MISSING_TOKEN", authenticated: false);
    }

    private string MediaDirectory => Server.App.Services.GetRequiredService<IOptions<MediaOptions>>().Value.Directory!;

    private int ContentFileCount()
    {
        var content = Path.Combine(MediaDirectory, "content");
        return Directory.Exists(content) ? Directory.GetFiles(content, "*", SearchOption.AllDirectories).Length : 0;
    }

    private string[] ThumbnailFiles(string mediaId)
    {
        var directory = Path.Combine(MediaDirectory, "thumbnails", mediaId[..2], mediaId);
        return Directory.Exists(directory) ? Directory.GetFiles(directory) : [];
    }
}

public sealed class SqliteMediaTests(SqliteMediaServerFixture fixture) : MediaTests(fixture), IClassFixture<SqliteMediaServerFixture>;

public sealed class PostgresMediaTests(PostgresMediaServerFixture fixture) : MediaTests(fixture), IClassFixture<PostgresMediaServerFixture>;
