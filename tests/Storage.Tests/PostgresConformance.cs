using HomeServer.Storage.Tests.Backends;
using HomeServer.Storage.Tests.Conformance;

namespace HomeServer.Storage.Tests;

// The conformance suite, run against PostgreSQL (a fresh database per test).

public sealed class PostgresAccountStoreTests : AccountStoreTests<PostgresTestBackend>;

public sealed class PostgresDeviceStoreTests : DeviceStoreTests<PostgresTestBackend>;

public sealed class PostgresRoomStoreTests : RoomStoreTests<PostgresTestBackend>;

public sealed class PostgresRoomAliasStoreTests : RoomAliasStoreTests<PostgresTestBackend>;

public sealed class PostgresEventAppendTests : EventAppendTests<PostgresTestBackend>;

public sealed class PostgresEventQueryTests : EventQueryTests<PostgresTestBackend>;

public sealed class PostgresRoomStateTests : RoomStateTests<PostgresTestBackend>;

public sealed class PostgresTransactionIdTests : TransactionIdTests<PostgresTestBackend>;

public sealed class PostgresAccountDataTests : AccountDataTests<PostgresTestBackend>;

public sealed class PostgresReceiptTests : ReceiptTests<PostgresTestBackend>;

public sealed class PostgresRelationStoreTests : RelationStoreTests<PostgresTestBackend>;

public sealed class PostgresFilterTests : FilterTests<PostgresTestBackend>;

public sealed class PostgresDurabilityTests : DurabilityTests<PostgresTestBackend>;

public sealed class PostgresMigrationTests : MigrationTests<PostgresTestBackend>;

public sealed class PostgresBadInputTests : BadInputTests<PostgresTestBackend>;

public sealed class PostgresRateLimitStoreTests : RateLimitStoreTests<PostgresTestBackend>;

public sealed class PostgresPresenceTests : PresenceTests<PostgresTestBackend>;

public sealed class PostgresKeyBackupTests : KeyBackupTests<PostgresTestBackend>;
public sealed class PostgresMediaStoreTests : MediaStoreTests<PostgresTestBackend>;
public sealed class PostgresEventSearchTests : EventSearchTests<PostgresTestBackend>;

public sealed class PostgresToDeviceTests : ToDeviceTests<PostgresTestBackend>;

public sealed class PostgresKeyStoreTests : KeyStoreTests<PostgresTestBackend>;
public sealed class PostgresPushStoreTests : PushStoreTests<PostgresTestBackend>;

public sealed class PostgresReportStoreTests : ReportStoreTests<PostgresTestBackend>;
public sealed class PostgresPusherStoreTests : PusherStoreTests<PostgresTestBackend>;

public sealed class PostgresServerSigningKeyStoreTests : ServerSigningKeyStoreTests<PostgresTestBackend>;

public sealed class PostgresFederationDestinationStoreTests : FederationDestinationStoreTests<PostgresTestBackend>;
public sealed class PostgresRemoteInviteStoreTests : RemoteInviteStoreTests<PostgresTestBackend>;
public sealed class PostgresFederationOutboxStoreTests : FederationOutboxStoreTests<PostgresTestBackend>;
public sealed class PostgresRoomForkStoreTests : RoomForkStoreTests<PostgresTestBackend>;
public sealed class PostgresRoomBackfillStoreTests : RoomBackfillStoreTests<PostgresTestBackend>;
