using System.Net;
using System.Net.Http.Headers;
using HomeServer.Gateway.Media;
using HomeServer.Server.Tests.Infrastructure;
using HomeServer.Server.Tests.Media;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using SkiaSharp;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// The remote media cache (docs/adr/0049): thumbnails of other servers' media are asked of their origin once per
/// size, method and animation and served from the cache after; an origin without one leads to a thumbnail made here
/// from the original; the cache is bounded, the least recently used files evicted and fetched again when asked for;
/// an origin's <c>Cache-Control: no-store</c> is honoured. The origin is a <see cref="FakeMediaServer"/>, which counts
/// what it is asked.
/// </summary>
public abstract class RemoteMediaCacheTests<TPair>(TPair pair) where TPair : FederationPair
{
    private const string Client = "/_matrix/client/v1/media";
    private const string Legacy = "/_matrix/media/v3";

    [Fact]
    public async Task A_remote_thumbnail_is_asked_of_its_origin_once_and_then_served_from_the_cache()
    {
        await using var remote = await FakeMediaServer.StartAsync(pair.Authority);
        var original = TestImages.Banded(400, 200, 100, SKEncodedImageFormat.Png);
        // Not what a thumbnail made here would be (320x160 for this request): proof that the origin's is served.
        var originThumbnail = TestImages.Banded(77, 33, 10, SKEncodedImageFormat.Png);
        remote.Serve("pic", new FakeMedia(original, "image/png", "pic.png"));
        remote.ServeThumbnail("pic", new FakeMedia(originThumbnail, "image/png", null));
        var alice = await TestUsers.CreateAsync(pair.A, "alice");

        foreach (var path in new[]
                 {
                     $"{Client}/thumbnail/{remote.Name}/pic?width=300&height=200&method=scale",
                     $"{Client}/thumbnail/{remote.Name}/pic?width=320&height=240&method=scale&animated=false",
                     $"{Legacy}/thumbnail/{remote.Name}/pic?width=320&height=240",
                     $"{Legacy}/thumbnail/{remote.Name}/pic?width=320&height=240&allow_remote=false",
                 })
        {
            using var response = await GetAsync(pair.A, path.StartsWith(Client) ? alice : null, path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            Assert.Equal("image/png", response.Content.Headers.ContentType!.MediaType);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(originThumbnail, bytes);
            using var decoded = TestImages.Decode(bytes);
            Assert.Equal((77, 33), (decoded.Width, decoded.Height));
        }

        Assert.Equal(1, remote.ThumbnailRequestsFor("pic"));
        Assert.Equal(0, remote.RequestsFor("pic"));
        // Asked in the preferred size the request maps to, with the method and animation asked for.
        var query = Assert.Single(remote.ThumbnailQueries).Split('&');
        Assert.Contains("width=320", query);
        Assert.Contains("height=240", query);
        Assert.Contains("method=scale", query);
        Assert.Contains("animated=false", query);
        Assert.True(remote.AllSigned);
        var cached = await StoreOf(pair.A).Media.GetRemoteThumbnailAsync(remote.Name, "pic", new RemoteThumbnailKey(320, 240, "scale", false), CancellationToken.None);
        Assert.NotNull(cached);
        Assert.Equal(originThumbnail.Length, cached.SizeBytes);

        // Another method is another thumbnail: asked once more.
        using (var crop = await GetAsync(pair.A, alice, $"{Client}/thumbnail/{remote.Name}/pic?width=32&height=32&method=crop"))
            Assert.Equal(HttpStatusCode.OK, crop.StatusCode);
        Assert.Equal(2, remote.ThumbnailRequestsFor("pic"));
        Assert.Equal(0, remote.RequestsFor("pic"));
    }

    [Fact]
    public async Task Without_a_thumbnail_from_the_origin_one_is_made_here_from_the_original()
    {
        await using var remote = await FakeMediaServer.StartAsync(pair.Authority);
        remote.Serve("plain", new FakeMedia(TestImages.Banded(400, 200, 100, SKEncodedImageFormat.Png), "image/png", null));
        await using var older = await FakeMediaServer.StartAsync(pair.Authority, federationEndpoints: false);
        older.Serve("old", new FakeMedia(TestImages.Banded(64, 64, 32, SKEncodedImageFormat.Png), "image/png", null));
        var alice = await TestUsers.CreateAsync(pair.A, "alice");

        // The origin answers 404 M_NOT_FOUND for its thumbnail: the original is fetched and thumbnailed here.
        using (var response = await GetAsync(pair.A, alice, $"{Client}/thumbnail/{remote.Name}/plain?width=320&height=240&method=scale"))
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            using var decoded = TestImages.Decode(await response.Content.ReadAsByteArrayAsync());
            Assert.Equal((320, 160), (decoded.Width, decoded.Height));
        }
        // It is not asked again for this media: other sizes are made here from the cached original.
        using (var response = await GetAsync(pair.A, alice, $"{Client}/thumbnail/{remote.Name}/plain?width=32&height=32&method=crop"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var decoded = TestImages.Decode(await response.Content.ReadAsByteArrayAsync());
            Assert.Equal((32, 32), (decoded.Width, decoded.Height));
        }
        Assert.Equal(1, remote.ThumbnailRequestsFor("plain"));
        Assert.Equal(1, remote.RequestsFor("plain"));

        // An older server does not know the endpoint (404 M_UNRECOGNIZED): the same, through its deprecated download.
        using (var response = await GetAsync(pair.A, alice, $"{Client}/thumbnail/{older.Name}/old?width=32&height=32&method=crop"))
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            using var decoded = TestImages.Decode(await response.Content.ReadAsByteArrayAsync());
            Assert.Equal((32, 32), (decoded.Width, decoded.Height));
        }
        Assert.Equal(1, older.ThumbnailRequestsFor("old"));
        Assert.Equal(1, older.LegacyRequests);
    }

    [Fact]
    public async Task Past_the_bound_the_least_recently_used_remote_files_are_evicted_and_fetched_again()
    {
        const int size = 1000;
        var (small, _) = await pair.StartAsync(allowPrivateAddresses: true, arguments: $"--Media:RemoteCacheMaxBytes={2 * size + size / 2}");
        await using var remote = await FakeMediaServer.StartAsync(pair.Authority);
        foreach (var id in new[] { "m1", "m2", "m3" })
            remote.Serve(id, new FakeMedia(Enumerable.Repeat((byte)id[1], size).ToArray(), "application/octet-stream", null));
        var carol = await TestUsers.CreateAsync(small, "carol");
        var local = await UploadAsync(small, carol, Enumerable.Repeat((byte)'L', 3 * size).ToArray());

        await DownloadAsync(small, carol, remote.Name, "m1");
        await DownloadAsync(small, carol, remote.Name, "m2");
        var fileOfM2 = (await StoreOf(small).Media.GetRemoteAsync(remote.Name, "m2", CancellationToken.None))!.FileId;
        // Uses are recorded to the second: m1 used after m2 was fetched makes m2 the least recently used.
        await Task.Delay(TimeSpan.FromMilliseconds(1100));
        await DownloadAsync(small, carol, remote.Name, "m1");
        await DownloadAsync(small, carol, remote.Name, "m3");

        Assert.Null(await StoreOf(small).Media.GetRemoteAsync(remote.Name, "m2", CancellationToken.None));
        Assert.NotNull(await StoreOf(small).Media.GetRemoteAsync(remote.Name, "m1", CancellationToken.None));
        Assert.NotNull(await StoreOf(small).Media.GetRemoteAsync(remote.Name, "m3", CancellationToken.None));
        Assert.False(File.Exists(small.App.Services.GetRequiredService<MediaFiles>().ContentPath(fileOfM2)));
        Assert.Equal(2 * size, await StoreOf(small).Media.GetRemoteCacheBytesAsync(CancellationToken.None));
        Assert.Equal((1, 1, 1), (remote.RequestsFor("m1"), remote.RequestsFor("m2"), remote.RequestsFor("m3")));

        // Evicted media is fetched again when asked for; local media, larger than the bound, is never evicted.
        await DownloadAsync(small, carol, remote.Name, "m2");
        Assert.Equal(2, remote.RequestsFor("m2"));
        Assert.Equal(1, remote.RequestsFor("m1"));
        Assert.True(await StoreOf(small).Media.GetRemoteCacheBytesAsync(CancellationToken.None) <= 2 * size + size / 2);
        using var localDownload = await GetAsync(small, carol, $"{Client}/download/{small.App.Services.GetRequiredService<HomeServer.Grains.LocalServer>().Name}/{local}");
        Assert.Equal(HttpStatusCode.OK, localDownload.StatusCode);
        Assert.Equal(3 * size, (await localDownload.Content.ReadAsByteArrayAsync()).Length);
    }

    [Fact]
    public async Task Thumbnails_from_the_origin_count_in_the_bound_and_are_evicted_and_fetched_again_too()
    {
        const int size = 1000;
        var (small, _) = await pair.StartAsync(allowPrivateAddresses: true, arguments: $"--Media:RemoteCacheMaxBytes={size + size / 2}");
        await using var remote = await FakeMediaServer.StartAsync(pair.Authority);
        var a = Enumerable.Repeat((byte)'a', size).ToArray();
        remote.ServeThumbnail("a", new FakeMedia(a, "image/png", null));
        remote.ServeThumbnail("b", new FakeMedia(Enumerable.Repeat((byte)'b', size).ToArray(), "image/png", null));
        var carol = await TestUsers.CreateAsync(small, "carol");
        var key = new RemoteThumbnailKey(96, 96, "crop", false);

        await ThumbnailAsync(small, carol, remote.Name, "a");
        Assert.NotNull(await StoreOf(small).Media.GetRemoteThumbnailAsync(remote.Name, "a", key, CancellationToken.None));
        await ThumbnailAsync(small, carol, remote.Name, "b");
        Assert.Null(await StoreOf(small).Media.GetRemoteThumbnailAsync(remote.Name, "a", key, CancellationToken.None));
        Assert.NotNull(await StoreOf(small).Media.GetRemoteThumbnailAsync(remote.Name, "b", key, CancellationToken.None));

        Assert.Equal(a, await ThumbnailAsync(small, carol, remote.Name, "a"));
        Assert.Equal((2, 1), (remote.ThumbnailRequestsFor("a"), remote.ThumbnailRequestsFor("b")));
        Assert.Equal(size, await StoreOf(small).Media.GetRemoteCacheBytesAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Media_and_thumbnails_the_origin_says_not_to_store_are_served_and_not_kept()
    {
        await using var remote = await FakeMediaServer.StartAsync(pair.Authority);
        var bytes = "served, never stored"u8.ToArray();
        remote.Serve("secret", new FakeMedia(bytes, "text/plain", null), cacheControl: "no-store");
        var thumbnail = TestImages.Banded(40, 20, 10, SKEncodedImageFormat.Png);
        remote.Serve("pic", new FakeMedia(TestImages.Banded(400, 200, 100, SKEncodedImageFormat.Png), "image/png", null));
        remote.ServeThumbnail("pic", new FakeMedia(thumbnail, "image/png", null), cacheControl: "private, no-store");
        var alice = await TestUsers.CreateAsync(pair.A, "alice");

        for (var i = 0; i < 2; i++)
        {
            using (var response = await GetAsync(pair.A, alice, $"{Client}/download/{remote.Name}/secret"))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
            }
            using (var response = await GetAsync(pair.A, alice, $"{Client}/thumbnail/{remote.Name}/pic?width=96&height=96&method=crop"))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(thumbnail, await response.Content.ReadAsByteArrayAsync());
            }
        }

        Assert.Equal(2, remote.RequestsFor("secret"));
        Assert.Equal(2, remote.ThumbnailRequestsFor("pic"));
        Assert.Null(await StoreOf(pair.A).Media.GetRemoteAsync(remote.Name, "secret", CancellationToken.None));
        Assert.Null(await StoreOf(pair.A).Media.GetRemoteThumbnailAsync(remote.Name, "pic", new RemoteThumbnailKey(96, 96, "crop", false), CancellationToken.None));
        // Not cached, so a request that may not fetch finds nothing.
        using var notCached = await GetAsync(pair.A, null, $"{Legacy}/download/{remote.Name}/secret?allow_remote=false");
        await notCached.AssertErrorAsync(HttpStatusCode.NotFound, "M_NOT_FOUND");
    }

    private static IHomeServerStore StoreOf(RunningServer server) => server.App.Services.GetRequiredService<IHomeServerStore>();

    private async Task DownloadAsync(RunningServer server, TestUser user, string serverName, string mediaId)
    {
        using var response = await GetAsync(server, user, $"{Client}/download/{serverName}/{mediaId}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        await response.Content.ReadAsByteArrayAsync();
    }

    private async Task<byte[]> ThumbnailAsync(RunningServer server, TestUser user, string serverName, string mediaId)
    {
        using var response = await GetAsync(server, user, $"{Client}/thumbnail/{serverName}/{mediaId}?width=96&height=96&method=crop");
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadAsByteArrayAsync();
    }

    private async Task<string> UploadAsync(RunningServer server, TestUser user, byte[] bytes)
    {
        using var http = pair.ClientFor(server);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{Legacy}/upload") { Content = MediaClient.Bytes(bytes, "application/octet-stream") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var uri = (await response.ReadJsonAsync()).GetProperty("content_uri").GetString()!;
        return uri[(uri.LastIndexOf('/') + 1)..];
    }

    private async Task<HttpResponseMessage> GetAsync(RunningServer server, TestUser? user, string path)
    {
        var http = pair.ClientFor(server);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (user is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        return await http.SendAsync(request);
    }
}

public sealed class SqliteRemoteMediaCacheTests(SqliteFederationPair pair)
    : RemoteMediaCacheTests<SqliteFederationPair>(pair), IClassFixture<SqliteFederationPair>;

public sealed class PostgresRemoteMediaCacheTests(PostgresFederationPair pair)
    : RemoteMediaCacheTests<PostgresFederationPair>(pair), IClassFixture<PostgresFederationPair>;
