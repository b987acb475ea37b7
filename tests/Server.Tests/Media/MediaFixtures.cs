using HomeServer.Gateway.Media;
using HomeServer.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.Media;

/// <summary>Small limits so that tests reach them cheaply; URL previews may reach this machine's loopback address.</summary>
internal static class MediaTestSettings
{
    public const long MaxUploadBytes = 256 * 1024;
    public const int MaxPendingUploads = 3;
    public const long MaxThumbnailPixels = 5_000_000;
    public const int MaxPageBytes = 32 * 1024;

    public static void Apply(MediaOptions media)
    {
        media.MaxUploadBytes = MaxUploadBytes;
        media.MaxPendingUploadsPerUser = MaxPendingUploads;
        media.MaxThumbnailSourcePixels = MaxThumbnailPixels;
        media.UrlPreview.MaxPageBytes = MaxPageBytes;
        media.UrlPreview.Timeout = TimeSpan.FromSeconds(2);
    }
}

public abstract class MediaServerFixture : BackendServerFixture
{
    protected override void ConfigureServices(IServiceCollection services) =>
        services.PostConfigure<MediaOptions>(media =>
        {
            MediaTestSettings.Apply(media);
            media.UrlPreview.AllowedNetworks = ["127.0.0.1/32"];
        });
}

public sealed class SqliteMediaServerFixture : MediaServerFixture
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresMediaServerFixture : MediaServerFixture
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}

/// <summary>
/// Default URL preview networks (public only), unauthenticated media frozen from the server's start, and created media
/// ids that expire after a second unused.
/// </summary>
public abstract class RestrictedMediaServerFixture : BackendServerFixture
{
    public DateTimeOffset FrozenAt { get; } = DateTimeOffset.UtcNow;

    protected override void ConfigureServices(IServiceCollection services) =>
        services.PostConfigure<MediaOptions>(media =>
        {
            MediaTestSettings.Apply(media);
            media.UnauthenticatedMediaFrozenAt = FrozenAt;
            media.UnusedIdLifetime = TimeSpan.FromSeconds(1);
        });
}

public sealed class SqliteRestrictedMediaServerFixture : RestrictedMediaServerFixture
{
    protected override Task<StoreBackend> CreateBackendAsync() => Task.FromResult<StoreBackend>(new SqliteBackend());
}

public sealed class PostgresRestrictedMediaServerFixture : RestrictedMediaServerFixture
{
    protected override async Task<StoreBackend> CreateBackendAsync() => await PostgresBackend.CreateAsync();
}
