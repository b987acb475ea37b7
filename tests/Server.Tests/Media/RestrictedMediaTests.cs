using System.Net;
using HomeServer.Server.Tests.Infrastructure;
using SkiaSharp;

namespace HomeServer.Server.Tests.Media;

/// <summary>
/// A server with the default URL preview networks (public addresses only) and unauthenticated media frozen since it
/// started, as the spec lets a server do once clients use authenticated media.
/// </summary>
public abstract class RestrictedMediaTests(RestrictedMediaServerFixture fixture)
{
    private static readonly HttpMethod Get = HttpMethod.Get;
    private const string M = MediaClient.Media;
    private const string A = MediaClient.Authenticated;

    private async Task<MediaClient> UserAsync(string name) => new(fixture.Server.Client, await TestUsers.CreateAsync(fixture.Server, name));

    [Fact]
    public async Task Previews_of_private_loopback_link_local_and_multicast_addresses_are_refused()
    {
        await using var site = await PreviewSite.StartAsync();
        var alice = await UserAsync("alice");
        string[] urls =
        [
            site.Url("/article"),                              // 127.0.0.1, a live server
            $"http://127.1.2.3:{site.Port}/",
            $"http://[::1]:{site.Port}/",
            $"http://[::ffff:127.0.0.1]:{site.Port}/article",  // IPv4 loopback written as IPv6
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data/",        // cloud metadata service
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://224.0.0.1/",
            "http://[fe80::1]/",
            "http://[fd00::1]/",
            "http://[ff02::1]/",
        ];
        foreach (var url in urls)
        {
            foreach (var prefix in new[] { A, M })
                await alice.FailsAsync(Get, $"{prefix}/preview_url?url={Uri.EscapeDataString(url)}", null, HttpStatusCode.Forbidden, "M_FORBIDDEN");
        }
    }

    [Fact]
    public async Task Unauthenticated_download_and_thumbnail_of_media_uploaded_after_the_freeze_are_not_found()
    {
        var alice = await UserAsync("alice");
        Assert.True(DateTimeOffset.UtcNow >= fixture.FrozenAt);
        var png = TestImages.Banded(100, 100, 10, SKEncodedImageFormat.Png);
        var id = await alice.UploadAsync(png, "image/png");

        await alice.FailsAsync(Get, $"{M}/download/localhost/{id}", null, HttpStatusCode.NotFound, "M_NOT_FOUND", authenticated: false);
        await alice.FailsAsync(Get, $"{M}/download/localhost/{id}/name.png", null, HttpStatusCode.NotFound, "M_NOT_FOUND", authenticated: false);
        await alice.FailsAsync(Get, $"{M}/thumbnail/localhost/{id}?width=32&height=32", null, HttpStatusCode.NotFound, "M_NOT_FOUND", authenticated: false);
        // A token on the deprecated path does not lift the freeze: it is the endpoint that is frozen.
        await alice.FailsAsync(Get, $"{M}/download/localhost/{id}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");

        using (var download = await alice.SendAsync(Get, $"{A}/download/localhost/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            Assert.Equal(png, await download.Content.ReadAsByteArrayAsync());
        }
        using (var thumbnail = await alice.SendAsync(Get, $"{A}/thumbnail/localhost/{id}?width=32&height=32"))
            Assert.Equal(HttpStatusCode.OK, thumbnail.StatusCode);
    }

    [Fact]
    public async Task Created_ids_left_unused_past_their_expiry_take_no_upload_and_free_their_place()
    {
        var alice = await UserAsync("alice");
        var ids = new List<string>();
        for (var i = 0; i < MediaTestSettings.MaxPendingUploads; i++)
        {
            var created = await alice.OkJsonAsync(HttpMethod.Post, "/_matrix/media/v1/create");
            Assert.InRange(created.GetProperty("unused_expires_at").GetInt64() - DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 0, 1000);
            ids.Add(MediaClient.MediaId(created.GetProperty("content_uri").GetString()!));
        }
        await alice.FailsAsync(HttpMethod.Post, "/_matrix/media/v1/create", null, HttpStatusCode.TooManyRequests, "M_LIMIT_EXCEEDED");

        await Task.Delay(TimeSpan.FromMilliseconds(1200));
        await alice.FailsAsync(HttpMethod.Put, $"{M}/upload/localhost/{ids[0]}", MediaClient.Bytes([1], "text/plain"), HttpStatusCode.NotFound, "M_NOT_FOUND");
        await alice.FailsAsync(Get, $"{A}/download/localhost/{ids[0]}", null, HttpStatusCode.NotFound, "M_NOT_FOUND");
        await alice.OkJsonAsync(HttpMethod.Post, "/_matrix/media/v1/create");
    }
}

public sealed class SqliteRestrictedMediaTests(SqliteRestrictedMediaServerFixture fixture)
    : RestrictedMediaTests(fixture), IClassFixture<SqliteRestrictedMediaServerFixture>;

public sealed class PostgresRestrictedMediaTests(PostgresRestrictedMediaServerFixture fixture)
    : RestrictedMediaTests(fixture), IClassFixture<PostgresRestrictedMediaServerFixture>;
