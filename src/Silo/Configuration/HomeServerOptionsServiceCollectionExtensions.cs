using HomeServer.Gateway;
using HomeServer.Gateway.Accounts;
using HomeServer.Gateway.Discovery;
using HomeServer.Gateway.Voip;
using HomeServer.Gateway.Limits;
using HomeServer.Gateway.Media;
using HomeServer.Gateway.Overload;
using HomeServer.Gateway.RateLimiting;
using HomeServer.Grains.Delivery;
using HomeServer.Gateway.Federation;
using HomeServer.Grains.Federation;
using HomeServer.Grains.Federation.Transport;
using HomeServer.Grains.Federation.Outbound;
using HomeServer.Grains.Presence;
using HomeServer.Grains.Sync;
using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace HomeServer.Silo.Configuration;

internal static class HomeServerOptionsServiceCollectionExtensions
{
    /// <summary>Binds and validates every option of the host, and applies the defaults derived from other options.</summary>
    public static IServiceCollection AddHomeServerOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<HomeServerOptions>().BindReportingErrors(configuration).ValidateOnStart();
        services.AddSingleton<IValidateOptions<HomeServerOptions>, HomeServerOptionsValidator>();

        services.AddOptions<StorageOptions>()
            .BindReportingErrors(configuration.GetSection(StorageOptions.SectionName))
            .PostConfigure<IOptions<HomeServerOptions>>((storage, host) =>
            {
                if (storage.Kind == StorageKind.Sqlite && string.IsNullOrWhiteSpace(storage.ConnectionString))
                {
                    storage.ConnectionString = StorageOptions.DefaultSqliteConnectionString(host.Value.DataDirectory);
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();

        services.AddOptions<ClusterOptions>()
            .BindReportingErrors(configuration.GetSection(ClusterOptions.SectionName))
            .PostConfigure<IOptions<StorageOptions>>((cluster, storage) =>
            {
                if (cluster.Membership == MembershipKind.Postgres && string.IsNullOrWhiteSpace(cluster.ConnectionString)
                    && storage.Value.Kind == StorageKind.Postgres)
                {
                    cluster.ConnectionString = storage.Value.ConnectionString;
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ClusterOptions>, ClusterOptionsValidator>();

        services.AddOptions<RegistrationOptions>()
            .BindReportingErrors(configuration.GetSection(RegistrationOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<RegistrationOptions>, RegistrationOptionsValidator>();
        services.AddSingleton(provider => RegistrationPolicy.Resolve(
            provider.GetRequiredService<IOptions<RegistrationOptions>>().Value.Mode,
            provider.GetRequiredService<IOptions<HomeServerOptions>>().Value.ParseListenUrls()));
        services.AddOptions<RegistrationSettings>()
            .Configure<RegistrationPolicy, IOptions<RegistrationOptions>>((settings, policy, registration) =>
            {
                settings.Enabled = policy.Mode != RegistrationMode.Disabled;
                settings.RequiresToken = policy.Mode == RegistrationMode.Token;
                settings.Tokens = registration.Value.Tokens;
                settings.SharedSecret = registration.Value.SharedSecret;
                settings.AllowGuests = registration.Value.AllowGuests;
            });
        services.AddOptions<PasswordHashingOptions>()
            .BindReportingErrors(configuration.GetSection(PasswordHashingOptions.SectionName))
            .ValidateOnStart();

        services.AddOptions<PasswordPolicyOptions>()
            .BindReportingErrors(configuration.GetSection(PasswordPolicyOptions.SectionName))
            .ValidateOnStart();

        services.AddOptions<RateLimitOptions>()
            .BindReportingErrors(configuration.GetSection(RateLimitOptions.SectionName))
            .ValidateOnStart();

        services.AddOptions<OverloadOptions>()
            .BindReportingErrors(configuration.GetSection(OverloadOptions.SectionName))
            .ValidateOnStart();

        services.AddOptions<SyncDeliveryOptions>()
            .BindReportingErrors(configuration.GetSection(SyncDeliveryOptions.SectionName))
            .ValidateOnStart();
        services.AddSingleton(provider => provider.GetRequiredService<IOptions<SyncDeliveryOptions>>().Value);
        services.AddOptions<InitialSyncOptions>()
            .BindReportingErrors(configuration.GetSection(InitialSyncOptions.SectionName))
            .Validate(sync => sync.MaxConcurrentInitialSyncs > 0, "SyncDelivery:MaxConcurrentInitialSyncs must be greater than zero.")
            .ValidateOnStart();

        services.AddOptions<ServerKeyOptions>()
            .BindReportingErrors(configuration.GetSection(ServerKeyOptions.SectionName))
            .Validate(keys => keys.IsValid, "Federation:KeyResponseValidity must be between 1 hour and 7 days.")
            .ValidateOnStart();
        services.AddOptions<FederationTransportOptions>()
            .BindReportingErrors(configuration.GetSection(FederationTransportOptions.SectionName))
            .Validate(transport => !transport.Validate().Any(),
                "Federation: timeouts and MaxResponseBytes must be more than zero, and every TrustedCaCertificates file must exist.")
            .ValidateOnStart();
        services.AddOptions<FederationOutboundOptions>()
            .BindReportingErrors(configuration.GetSection(FederationOutboundOptions.SectionName))
            .Validate(outbound => outbound.IsValid, $"Federation:Outbound: InitialRetryDelay must be more than zero, MaxRetryDelay at least InitialRetryDelay and CatchUpThreshold between 1 and {FederationOutboundOptions.MaxCatchUpThreshold}.")
            .ValidateOnStart();
        services.AddOptions<HomeServer.Grains.Federation.Transactions.FederationInboundOptions>()
            .BindReportingErrors(configuration.GetSection(HomeServer.Grains.Federation.Transactions.FederationInboundOptions.SectionName))
            .Validate(inbound => inbound.IsValid, $"Federation:Inbound:MaxGapEvents must be between 1 and {HomeServer.Grains.Federation.Transactions.FederationInboundOptions.MaxMaxGapEvents}.")
            .ValidateOnStart();
        services.AddOptions<FederationRequestOptions>()
            .BindReportingErrors(configuration.GetSection(FederationRequestOptions.SectionName))
            .Validate(requests => requests.MaxRequestBodyBytes > 0, "Federation:MaxRequestBodyBytes must be greater than zero.")
            .ValidateOnStart();

        services.AddOptions<MatrixGatewayOptions>()
            .BindReportingErrors(configuration)
            .PostConfigure<IOptions<HomeServerOptions>>((gateway, host) =>
                gateway.PublicBaseUrl ??= PublicBaseUrlDefault.From(host.Value.ParseListenUrls(), host.Value.ServerName));

        services.AddOptions<InputLimitsOptions>()
            .BindReportingErrors(configuration.GetSection(InputLimitsOptions.SectionName));
        services.AddOptions<ParkedSyncOptions>()
            .BindReportingErrors(configuration.GetSection(ParkedSyncOptions.SectionName))
            .Validate(parking => parking.MaxParkedSyncsPerUser > 0, "InputLimits:MaxParkedSyncsPerUser must be greater than zero.")
            .ValidateOnStart();

        services.AddOptions<TokenOptions>()
            .BindReportingErrors(configuration.GetSection(TokenOptions.SectionName))
            .Validate(tokens => tokens.IsValid, "Tokens:AccessTokenLifetime and Tokens:OpenIdTokenLifetime must be at least one millisecond.")
            .ValidateOnStart();

        services.AddOptions<VoipOptions>()
            .BindReportingErrors(configuration.GetSection(VoipOptions.SectionName))
            .Validate(voip => !voip.Validate().Any(), "Voip: invalid TURN settings (Voip:TurnUris, TurnSharedSecret or TurnUsername/TurnPassword, TurnUserLifetime).")
            .ValidateOnStart();
        services.AddOptions<SupportOptions>()
            .BindReportingErrors(configuration.GetSection(SupportOptions.SectionName))
            .Validate(support => !support.Validate().Any(), "Support: each contact needs a Role and a MatrixId or EmailAddress; SupportPage must be an absolute URL.")
            .ValidateOnStart();

        services.AddOptions<PresenceOptions>()
            .BindReportingErrors(configuration.GetSection(PresenceOptions.SectionName));

        services.AddOptions<MediaOptions>()
            .BindReportingErrors(configuration.GetSection(MediaOptions.SectionName))
            .PostConfigure<IOptions<HomeServerOptions>>((media, host) =>
                media.Directory ??= Path.Combine(host.Value.DataDirectory, "media"))
            .Validate(media => media.MaxUploadBytes > 0, "Media:MaxUploadBytes must be greater than zero.")
            .Validate(media => media.MaxPendingUploadsPerUser > 0, "Media:MaxPendingUploadsPerUser must be greater than zero.")
            .Validate(media => media.MaxThumbnailSourcePixels > 0, "Media:MaxThumbnailSourcePixels must be greater than zero.")
            .Validate(media => media.RemoteCacheMaxBytes > 0, "Media:RemoteCacheMaxBytes must be greater than zero.")
            .Validate(media => media.UrlPreview.AllowedNetworks.All(network => IPNetwork.TryParse(network, out _)),
                "Media:UrlPreview:AllowedNetworks must hold networks in CIDR notation, such as 192.168.0.0/16.")
            .ValidateOnStart();

        services.AddOptions<HostOptions>()
            .Configure<IOptions<HomeServerOptions>>((hostOptions, host) =>
            {
                // The host reads its options while it is being built, before start-up validation; invalid
                // options are left to that validation, which reports them together with all the others.
                try
                {
                    hostOptions.ShutdownTimeout = host.Value.ShutdownTimeout;
                }
                catch (OptionsValidationException)
                {
                }
            });
        return services;
    }
}
