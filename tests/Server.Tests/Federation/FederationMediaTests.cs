using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using HomeServer.Grains.Media;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Media;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using SkiaSharp;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// Media across servers (docs/adr/0043): B serves its media to other servers on the federation media endpoints
/// (multipart/mixed, X-Matrix authenticated); a user of A reads B's media through A, which fetches it once and keeps
/// it. A fake remote server (<see cref="FakeMediaServer"/>) answers what B never would: a Location redirect, an
/// oversized body, an unknown endpoint, and counts the requests it gets.
/// </summary>
public abstract class FederationMediaTests<TPair>(TPair pair) where TPair : FederationPair
{
    private const string Client = "/_matrix/client/v1/media";
    private const string Legacy = "/_matrix/media/v3";

    [Fact]
    public async Task A_user_of_A_downloads_media_uploaded_to_B_with_its_bytes_type_and_name_and_A_keeps_a_copy()
    {
        var bob = await UserAsync(pair.B, "bob");
        var alice = await UserAsync(pair.A, "alice");
        var bytes = Encoding.UTF8.GetBytes("Hello from B, in plain text.");
        var mediaId = await UploadAsync(pair.B, bob, bytes, "text/plain", "greeting é.txt");

        using (var response = await GetAsync(pair.A, alice, $"{Client}/download/{pair.NameOfB}/{mediaId}"))
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
            Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
            Assert.Equal("inline", response.Content.Headers.ContentDisposition!.DispositionType);
            Assert.Equal("greeting é.txt", response.Content.Headers.ContentDisposition.FileNameStar);
        }

        var cached = await pair.A.App.Services.GetRequiredService<IHomeServerStore>().Media.GetRemoteAsync(pair.NameOfB, mediaId, CancellationToken.None);
        Assert.NotNull(cached);
        Assert.Equal(new StoredMediaContent("text/plain", "greeting é.txt", bytes.Length), cached.Content);

        // Cached now: the deprecated endpoint serves it even when told not to fetch, with a file name of the caller's.
        using var legacy = await GetAsync(pair.A, null, $"{Legacy}/download/{pair.NameOfB}/{mediaId}/other.txt?allow_remote=false");
        Assert.Equal(HttpStatusCode.OK, legacy.StatusCode);
        Assert.Equal(bytes, await legacy.Content.ReadAsByteArrayAsync());
        Assert.Equal("other.txt", legacy.Content.Headers.ContentDisposition!.FileName?.Trim('"'));
    }

    [Fact]
    public async Task Unsafe_types_from_B_are_served_by_A_as_attachments_of_octet_stream()
    {
        var bob = await UserAsync(pair.B, "bob");
        var alice = await UserAsync(pair.A, "alice");
        var bytes = Encoding.UTF8.GetBytes("<script>alert(1)</script>");
        var mediaId = await UploadAsync(pair.B, bob, bytes, "text/html", "page.html");

        using var response = await GetAsync(pair.A, alice, $"{Client}/download/{pair.NameOfB}/{mediaId}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition!.DispositionType);
        // A keeps the type B was told, and decides itself how to serve it.
        var cached = await pair.A.App.Services.GetRequiredService<IHomeServerStore>().Media.GetRemoteAsync(pair.NameOfB, mediaId, CancellationToken.None);
        Assert.Equal("text/html", cached!.Content.ContentType);
    }

    [Fact]
    public async Task B_answers_a_signed_media_download_with_a_json_part_and_the_content_part()
    {
        var bob = await UserAsync(pair.B, "bob");
        var bytes = TestImages.Banded(40, 20, 10, SKEncodedImageFormat.Png);
        var mediaId = await UploadAsync(pair.B, bob, bytes, "image/png", "bands.png");

        using var response = await pair.FederationOfA.GetStreamingAsync(pair.NameOfB, $"/_matrix/federation/v1/media/download/{mediaId}", CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var (metadata, headers, content) = await ReadTwoPartsAsync(response);
        Assert.Equal("{}", metadata);
        Assert.Equal("image/png", headers["Content-Type"]);
        Assert.Equal("inline", ContentDispositionHeaderValue.Parse(headers["Content-Disposition"]).DispositionType);
        Assert.Equal("bands.png", ContentDispositionHeaderValue.Parse(headers["Content-Disposition"]).FileName?.Trim('"'));
        Assert.Equal(bytes, content);
    }

    [Fact]
    public async Task Thumbnails_of_B_media_are_served_to_servers_and_to_users_of_A()
    {
        var bob = await UserAsync(pair.B, "bob");
        var alice = await UserAsync(pair.A, "alice");
        var image = TestImages.Banded(400, 200, 100, SKEncodedImageFormat.Png);
        var mediaId = await UploadAsync(pair.B, bob, image, "image/png", null);

        using (var response = await pair.FederationOfA.GetStreamingAsync(pair.NameOfB,
                   $"/_matrix/federation/v1/media/thumbnail/{mediaId}?width=32&height=32&method=crop", CancellationToken.None))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var (metadata, headers, content) = await ReadTwoPartsAsync(response);
            Assert.Equal("{}", metadata);
            Assert.StartsWith("image/", headers["Content-Type"]);
            using var thumbnail = TestImages.Decode(content);
            Assert.Equal((32, 32), (thumbnail.Width, thumbnail.Height));
        }

        using (var response = await GetAsync(pair.A, alice, $"{Client}/thumbnail/{pair.NameOfB}/{mediaId}?width=320&height=240&method=scale"))
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            Assert.StartsWith("image/", response.Content.Headers.ContentType!.MediaType);
            using var thumbnail = TestImages.Decode(await response.Content.ReadAsByteArrayAsync());
            Assert.Equal((320, 160), (thumbnail.Width, thumbnail.Height));
        }

        // Not an image: no thumbnail, here as on B.
        var text = await UploadAsync(pair.B, bob, "text"u8.ToArray(), "text/plain", null);
        using var refused = await GetAsync(pair.A, alice, $"{Client}/thumbnail/{pair.NameOfB}/{text}?width=32&height=32");
        await refused.AssertErrorAsync(HttpStatusCode.BadRequest, "M_UNKNOWN");
        using var refusedByB = await pair.FederationOfA.GetStreamingAsync(pair.NameOfB, $"/_matrix/federation/v1/media/thumbnail/{text}?width=32&height=32", CancellationToken.None);
        await refusedByB.AssertErrorAsync(HttpStatusCode.BadRequest, "M_UNKNOWN");
    }

    [Fact]
    public async Task Unknown_media_is_404_on_both_servers_and_uncached_media_is_404_without_allow_remote()
    {
        var alice = await UserAsync(pair.A, "alice");
        var bob = await UserAsync(pair.B, "bob");
        using (var response = await pair.FederationOfA.GetStreamingAsync(pair.NameOfB, "/_matrix/federation/v1/media/download/NoSuchMediaIdAtAllHere", CancellationToken.None))
            await response.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
        using (var response = await pair.FederationOfA.GetStreamingAsync(pair.NameOfB, "/_matrix/federation/v1/media/thumbnail/NoSuchMediaIdAtAllHere?width=32&height=32", CancellationToken.None))
            await response.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
        using (var response = await GetAsync(pair.A, alice, $"{Client}/download/{pair.NameOfB}/NoSuchMediaIdAtAllHere"))
            await response.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");

        var mediaId = await UploadAsync(pair.B, bob, "not fetched"u8.ToArray(), "text/plain", null);
        using (var response = await GetAsync(pair.A, null, $"{Legacy}/download/{pair.NameOfB}/{mediaId}?allow_remote=false"))
            await response.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
        using (var response = await GetAsync(pair.A, null, $"{Legacy}/thumbnail/{pair.NameOfB}/{mediaId}?width=32&height=32&allow_remote=false"))
            await response.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
        Assert.Null(await pair.A.App.Services.GetRequiredService<IHomeServerStore>().Media.GetRemoteAsync(pair.NameOfB, mediaId, CancellationToken.None));
        // Without allow_remote=false the deprecated endpoint fetches it.
        using (var response = await GetAsync(pair.A, null, $"{Legacy}/download/{pair.NameOfB}/{mediaId}"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("not fetched"u8.ToArray(), await response.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task A_federation_media_request_without_a_signature_is_401()
    {
        var bob = await UserAsync(pair.B, "bob");
        var mediaId = await UploadAsync(pair.B, bob, "secret"u8.ToArray(), "text/plain", null);
        using var http = pair.ClientFor(pair.B);
        using var download = await http.GetAsync($"/_matrix/federation/v1/media/download/{mediaId}");
        await download.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_UNAUTHORIZED");
        using var thumbnail = await http.GetAsync($"/_matrix/federation/v1/media/thumbnail/{mediaId}?width=32&height=32");
        await thumbnail.AssertErrorAsync(HttpStatusCode.Unauthorized, "M_UNAUTHORIZED");
    }

    [Fact]
    public async Task Concurrent_and_later_downloads_of_one_remote_media_fetch_it_once()
    {
        await using var remote = await FakeMediaServer.StartAsync(pair.Authority, answerDelay: TimeSpan.FromMilliseconds(500));
        var bytes = Encoding.UTF8.GetBytes("fetched once");
        remote.Serve("once", new FakeMedia(bytes, "text/plain", "once.txt"));
        var alice = await UserAsync(pair.A, "alice");

        var downloads = await Task.WhenAll(Enumerable.Range(0, 3).Select(async _ =>
        {
            using var response = await GetAsync(pair.A, alice, $"{Client}/download/{remote.Name}/once");
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            return await response.Content.ReadAsByteArrayAsync();
        }));
        using (var later = await GetAsync(pair.A, alice, $"{Client}/download/{remote.Name}/once"))
            Assert.Equal(bytes, await later.Content.ReadAsByteArrayAsync());

        Assert.All(downloads, download => Assert.Equal(bytes, download));
        Assert.Equal(1, remote.RequestsFor("once"));
        Assert.Equal(1, remote.FederationRequests);
        Assert.True(remote.AllSigned, "Every federation request carried an X-Matrix signature.");
    }

    [Fact]
    public async Task A_fetch_longer_than_one_grain_call_is_waited_for_by_every_client()
    {
        // Longer than the 15 s one call to the media id's grain waits: clients ask it again until the fetch ends.
        await using var remote = await FakeMediaServer.StartAsync(pair.Authority, answerDelay: TimeSpan.FromSeconds(17));
        var bytes = Encoding.UTF8.GetBytes("worth the wait");
        remote.Serve("slow", new FakeMedia(bytes, "text/plain", null));
        var alice = await UserAsync(pair.A, "alice");

        var downloads = await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
        {
            using var response = await GetAsync(pair.A, alice, $"{Client}/download/{remote.Name}/slow");
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            return await response.Content.ReadAsByteArrayAsync();
        }));

        Assert.All(downloads, download => Assert.Equal(bytes, download));
        Assert.Equal(1, remote.RequestsFor("slow"));
    }

    [Fact]
    public async Task A_Location_answer_is_followed_and_its_headers_describe_the_media()
    {
        await using var remote = await FakeMediaServer.StartAsync(pair.Authority);
        var bytes = TestImages.Banded(64, 64, 32, SKEncodedImageFormat.Png);
        remote.ServeByLocation("moved", new FakeMedia(bytes, "image/png", "moved.png"));
        var alice = await UserAsync(pair.A, "alice");

        using var response = await GetAsync(pair.A, alice, $"{Client}/download/{remote.Name}/moved");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("image/png", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("moved.png", response.Content.Headers.ContentDisposition!.FileName?.Trim('"'));
        Assert.Equal(1, remote.LocationRequests);

        // Thumbnails of remote media are made here from the cached original.
        using var thumbnail = await GetAsync(pair.A, alice, $"{Client}/thumbnail/{remote.Name}/moved?width=32&height=32&method=crop");
        Assert.Equal(HttpStatusCode.OK, thumbnail.StatusCode);
        using var decoded = TestImages.Decode(await thumbnail.Content.ReadAsByteArrayAsync());
        Assert.Equal((32, 32), (decoded.Width, decoded.Height));
        Assert.Equal(1, remote.LocationRequests);
        Assert.Equal(1, remote.FederationRequests);
    }

    [Fact]
    public async Task A_server_without_the_federation_media_endpoints_is_asked_on_the_deprecated_one()
    {
        await using var remote = await FakeMediaServer.StartAsync(pair.Authority, federationEndpoints: false);
        var bytes = Encoding.UTF8.GetBytes("from an older server");
        remote.Serve("old", new FakeMedia(bytes, "text/plain", "old.txt"));
        var alice = await UserAsync(pair.A, "alice");

        using var response = await GetAsync(pair.A, alice, $"{Client}/download/{remote.Name}/old");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("old.txt", response.Content.Headers.ContentDisposition!.FileName?.Trim('"'));
        Assert.Equal(1, remote.FederationRequests);
        Assert.Equal(1, remote.LegacyRequests);
        Assert.Equal(["allow_remote=false"], remote.LegacyQueries.SelectMany(q => q.Split('&')).Where(p => p.StartsWith("allow_remote")));

        // Its not-found is the client's not-found.
        using var missing = await GetAsync(pair.A, alice, $"{Client}/download/{remote.Name}/missing");
        await missing.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    [Fact]
    public async Task A_remote_answer_longer_than_the_upload_limit_is_cut_off_and_not_kept()
    {
        const int limit = 4096;
        var (small, _) = await pair.StartAsync(allowPrivateAddresses: true, arguments: $"--Media:MaxUploadBytes={limit}");
        await using var remote = await FakeMediaServer.StartAsync(pair.Authority);
        remote.Serve("big", new FakeMedia(new byte[limit + 1], "application/octet-stream", null));
        remote.ServeByLocation("big-moved", new FakeMedia(new byte[limit * 4], "application/octet-stream", null));
        remote.Serve("fits", new FakeMedia(new byte[limit], "application/octet-stream", null));
        var carol = await UserAsync(small, "carol");

        foreach (var id in new[] { "big", "big-moved" })
        {
            using var response = await GetAsync(small, carol, $"{Client}/download/{remote.Name}/{id}");
            await response.AssertErrorAsync(HttpStatusCode.BadGateway, "M_TOO_LARGE");
            Assert.Null(await small.App.Services.GetRequiredService<IHomeServerStore>().Media.GetRemoteAsync(remote.Name, id, CancellationToken.None));
        }
        using var fits = await GetAsync(small, carol, $"{Client}/download/{remote.Name}/fits");
        Assert.Equal(HttpStatusCode.OK, fits.StatusCode);
        Assert.Equal(limit, (await fits.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task An_unreachable_or_malformed_remote_is_502_and_a_pending_one_is_504()
    {
        await using var remote = await FakeMediaServer.StartAsync(pair.Authority);
        remote.ServeRaw("truncated", "multipart/mixed; boundary=xyz", "--xyz\r\nContent-Type: application/json\r\n\r\n{}\r\n--xyz\r\nContent-Type: text/plain\r\n\r\nno end");
        remote.ServeRaw("not-multipart", "text/plain", "just text");
        remote.ServeError("pending", HttpStatusCode.GatewayTimeout, "M_NOT_YET_UPLOADED");
        var alice = await UserAsync(pair.A, "alice");

        foreach (var id in new[] { "truncated", "not-multipart" })
        {
            using var response = await GetAsync(pair.A, alice, $"{Client}/download/{remote.Name}/{id}");
            await response.AssertErrorAsync(HttpStatusCode.BadGateway, "M_UNKNOWN");
        }
        using (var response = await GetAsync(pair.A, alice, $"{Client}/download/{remote.Name}/pending?timeout_ms=100"))
            await response.AssertErrorAsync(HttpStatusCode.GatewayTimeout, "M_NOT_YET_UPLOADED");
        Assert.Contains("timeout_ms=100", remote.FederationQueries);

        var closed = $"127.0.0.1:{FakeMediaServer.ClosedPort()}";
        using (var response = await GetAsync(pair.A, alice, $"{Client}/download/{closed}/anything"))
            await response.AssertErrorAsync(HttpStatusCode.BadGateway, "M_UNKNOWN");
    }

    [Fact]
    public async Task A_remote_that_does_not_answer_in_time_is_504()
    {
        var (impatient, _) = await pair.StartAsync(allowPrivateAddresses: true, arguments: "--Federation:RequestTimeout=00:00:01");
        await using var remote = await FakeMediaServer.StartAsync(pair.Authority, answerDelay: TimeSpan.FromSeconds(3));
        remote.Serve("slow", new FakeMedia("late"u8.ToArray(), "text/plain", null));
        var carol = await UserAsync(impatient, "carol");

        using var response = await GetAsync(impatient, carol, $"{Client}/download/{remote.Name}/slow");
        await response.AssertErrorAsync(HttpStatusCode.GatewayTimeout, "M_UNKNOWN");
        Assert.Null(await impatient.App.Services.GetRequiredService<IHomeServerStore>().Media.GetRemoteAsync(remote.Name, "slow", CancellationToken.None));
    }

    private static async Task<(string Metadata, IReadOnlyDictionary<string, string> Headers, byte[] Content)> ReadTwoPartsAsync(HttpResponseMessage response)
    {
        var boundary = MultipartMixedReader.BoundaryOf(response.Content.Headers.ContentType);
        Assert.NotNull(boundary);
        var reader = new MultipartMixedReader(await response.Content.ReadAsStreamAsync(), boundary);
        var first = await reader.ReadNextPartAsync(CancellationToken.None);
        Assert.NotNull(first);
        Assert.Equal("application/json", first.Header("Content-Type"));
        var metadata = await new StreamReader(first.Body).ReadToEndAsync();
        var second = await reader.ReadNextPartAsync(CancellationToken.None);
        Assert.NotNull(second);
        using var content = new MemoryStream();
        await second.Body.CopyToAsync(content);
        Assert.Null(await reader.ReadNextPartAsync(CancellationToken.None));
        return (metadata, second.Headers, content.ToArray());
    }

    private async Task<TestUser> UserAsync(RunningServer server, string name) => await TestUsers.CreateAsync(server, name);

    private async Task<string> UploadAsync(RunningServer server, TestUser user, byte[] bytes, string contentType, string? fileName)
    {
        using var http = pair.ClientFor(server);
        using var request = new HttpRequestMessage(HttpMethod.Post,
            $"{Legacy}/upload" + (fileName is null ? "" : "?filename=" + Uri.EscapeDataString(fileName)))
        {
            Content = MediaClient.Bytes(bytes, contentType),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var uri = (await response.ReadJsonAsync()).GetProperty("content_uri").GetString()!;
        var prefix = $"mxc://{server.App.Services.GetRequiredService<HomeServer.Grains.LocalServer>().Name}/";
        Assert.StartsWith(prefix, uri);
        return uri[prefix.Length..];
    }

    private async Task<HttpResponseMessage> GetAsync(RunningServer server, TestUser? user, string path)
    {
        var http = pair.ClientFor(server);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (user is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        return await http.SendAsync(request);
    }
}

public sealed class SqliteFederationMediaTests(SqliteFederationPair pair)
    : FederationMediaTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresFederationMediaTests(PostgresFederationPair pair)
    : FederationMediaTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
