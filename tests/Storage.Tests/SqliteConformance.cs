using HomeServer.Storage.Tests.Backends;
using HomeServer.Storage.Tests.Conformance;

namespace HomeServer.Storage.Tests;

// The conformance suite, run against SQLite (a temp file per test).

public sealed class SqliteAccountStoreTests : AccountStoreTests<SqliteTestBackend>;

public sealed class SqliteDeviceStoreTests : DeviceStoreTests<SqliteTestBackend>;

public sealed class SqliteRoomStoreTests : RoomStoreTests<SqliteTestBackend>;

public sealed class SqliteRoomAliasStoreTests : RoomAliasStoreTests<SqliteTestBackend>;

public sealed class SqliteEventAppendTests : EventAppendTests<SqliteTestBackend>;

public sealed class SqliteEventQueryTests : EventQueryTests<SqliteTestBackend>;

public sealed class SqliteRoomStateTests : RoomStateTests<SqliteTestBackend>;

public sealed class SqliteTransactionIdTests : TransactionIdTests<SqliteTestBackend>;

public sealed class SqliteAccountDataTests : AccountDataTests<SqliteTestBackend>;

public sealed class SqliteReceiptTests : ReceiptTests<SqliteTestBackend>;

public sealed class SqliteRelationStoreTests : RelationStoreTests<SqliteTestBackend>;

public sealed class SqliteFilterTests : FilterTests<SqliteTestBackend>;

public sealed class SqliteDurabilityTests : DurabilityTests<SqliteTestBackend>;

public sealed class SqliteMigrationTests : MigrationTests<SqliteTestBackend>;

public sealed class SqliteBadInputTests : BadInputTests<SqliteTestBackend>;

public sealed class SqliteRateLimitStoreTests : RateLimitStoreTests<SqliteTestBackend>;

public sealed class SqlitePresenceTests : PresenceTests<SqliteTestBackend>;

public sealed class SqliteKeyBackupTests : KeyBackupTests<SqliteTestBackend>;
public sealed class SqliteMediaStoreTests : MediaStoreTests<SqliteTestBackend>;
public sealed class SqliteEventSearchTests : EventSearchTests<SqliteTestBackend>;

public sealed class SqliteToDeviceTests : ToDeviceTests<SqliteTestBackend>;

public sealed class SqliteKeyStoreTests : KeyStoreTests<SqliteTestBackend>;
public sealed class SqlitePushStoreTests : PushStoreTests<SqliteTestBackend>;

public sealed class SqliteReportStoreTests : ReportStoreTests<SqliteTestBackend>;
public sealed class SqlitePusherStoreTests : PusherStoreTests<SqliteTestBackend>;

public sealed class SqliteServerSigningKeyStoreTests : ServerSigningKeyStoreTests<SqliteTestBackend>;

public sealed class SqliteFederationDestinationStoreTests : FederationDestinationStoreTests<SqliteTestBackend>;
public sealed class SqliteRemoteInviteStoreTests : RemoteInviteStoreTests<SqliteTestBackend>;
public sealed class SqliteFederationOutboxStoreTests : FederationOutboxStoreTests<SqliteTestBackend>;
public sealed class SqliteRoomForkStoreTests : RoomForkStoreTests<SqliteTestBackend>;
public sealed class SqliteRoomBackfillStoreTests : RoomBackfillStoreTests<SqliteTestBackend>;
