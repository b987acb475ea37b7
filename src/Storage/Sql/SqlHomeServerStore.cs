namespace HomeServer.Storage.Sql;

internal sealed class SqlHomeServerStore(SqlDatabase db) : IHomeServerStore
{
    public IAccountStore Accounts { get; } = new SqlAccountStore(db);
    public IDeviceStore Devices { get; } = new SqlDeviceStore(db);
    public IRoomStore Rooms { get; } = new SqlRoomStore(db);
    public IRoomAliasStore Aliases { get; } = new SqlRoomAliasStore(db);
    public IRoomEventStore Events { get; } = new SqlRoomEventStore(db);
    public IRoomStateStore State { get; } = new SqlRoomStateStore(db);
    public ITransactionIdStore TransactionIds { get; } = new SqlTransactionIdStore(db);
    public IAccountDataStore AccountData { get; } = new SqlAccountDataStore(db);
    public IReceiptStore Receipts { get; } = new SqlReceiptStore(db);
    public IFilterStore Filters { get; } = new SqlFilterStore(db);
    public IRateLimitStore RateLimits { get; } = new SqlRateLimitStore(db);
    public IPresenceStore Presence { get; } = new SqlPresenceStore(db);
    public IKeyBackupStore KeyBackups { get; } = new SqlKeyBackupStore(db);
    public IRelationStore Relations { get; } = new SqlRelationStore(db);
    public IToDeviceStore ToDevice { get; } = new SqlToDeviceStore(db);
    public IKeyStore Keys { get; } = new SqlKeyStore(db);
    public IMediaStore Media { get; } = new SqlMediaStore(db);
    public IPushStore Push { get; } = new SqlPushStore(db);
    public IPusherStore Pushers { get; } = new SqlPusherStore(db);
    public IEventSearchStore Search { get; } = new SqlEventSearchStore(db);
    public IReportStore Reports { get; } = new SqlReportStore(db);
    public IOpenIdTokenStore OpenIdTokens { get; } = new SqlOpenIdTokenStore(db);
    public IServerSigningKeyStore SigningKeys { get; } = new SqlServerSigningKeyStore(db);
    public IFederationDestinationStore FederationDestinations { get; } = new SqlFederationDestinationStore(db);
    public IRemoteInviteStore RemoteInvites { get; } = new SqlRemoteInviteStore(db);
    public IFederationOutboxStore FederationOutbox { get; } = new SqlFederationOutboxStore(db);
    public IRoomForkStore Forks { get; } = new SqlRoomForkStore(db);
    public IRoomBackfillStore Backfill { get; } = new SqlRoomBackfillStore(db);

    public ValueTask DisposeAsync() => db.DisposeAsync();
}
