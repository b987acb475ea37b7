using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace HomeServer.Gateway.Media;

internal static class MediaServiceCollectionExtensions
{
    /// <summary>The content repository's services; <see cref="MediaOptions"/> are bound by the host.</summary>
    public static IServiceCollection AddMatrixMedia(this IServiceCollection services)
    {
        services.AddOptions<MediaOptions>();
        services.TryAddSingleton<MediaFiles>();
        services.TryAddSingleton<HomeServer.Grains.Media.IMediaContentFiles>(provider => provider.GetRequiredService<MediaFiles>());
        services.TryAddSingleton<MediaUploads>();
        services.TryAddSingleton<ThumbnailCache>();
        services.TryAddSingleton<PreviewNetworkPolicy>();
        services.TryAddSingleton<UrlPreviewer>();
        return services;
    }
}
