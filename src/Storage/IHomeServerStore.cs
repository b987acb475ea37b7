namespace HomeServer.Storage;

/// <summary>
/// Everything the homeserver persists, grouped by area. Obtain one from <c>SqliteStore.OpenAsync</c> or
/// <c>PostgresStore.OpenAsync</c>, which apply pending schema migrations first.
/// </summary>
public interface IHomeServerStore : IAsyncDisposable
{
    IAccountStore Accounts { get; }
    IDeviceStore Devices { get; }
    IRoomStore Rooms { get; }
    IRoomAliasStore Aliases { get; }
    IRoomEventStore Events { get; }
    IRoomStateStore State { get; }
    ITransactionIdStore TransactionIds { get; }
    IAccountDataStore AccountData { get; }
    IReceiptStore Receipts { get; }
    IFilterStore Filters { get; }
    IRateLimitStore RateLimits { get; }
    IPresenceStore Presence { get; }
    IKeyBackupStore KeyBackups { get; }
    IToDeviceStore ToDevice { get; }
    IKeyStore Keys { get; }
    IMediaStore Media { get; }
    IPushStore Push { get; }

    IPusherStore Pushers { get; }
    IRelationStore Relations { get; }
    IEventSearchStore Search { get; }
    IReportStore Reports { get; }
    IOpenIdTokenStore OpenIdTokens { get; }
    IServerSigningKeyStore SigningKeys { get; }
    IFederationDestinationStore FederationDestinations { get; }
    IRemoteInviteStore RemoteInvites { get; }

    IFederationOutboxStore FederationOutbox { get; }

    IRoomForkStore Forks { get; }
    IRoomBackfillStore Backfill { get; }
}
