-- Cluster membership for Orleans' ADO.NET clustering provider (Microsoft.Orleans.Clustering.AdoNet,
-- invariant "Npgsql").
--
-- PostgresClusteringSchema runs this whole file at every silo start, in one transaction that first takes an
-- advisory lock, so every statement must be harmless on a database that already has the schema: tables are
-- created only when missing, functions are replaced, and the provider's queries are upserted.
--
-- How the provider uses it:
--   * At start-up it runs `SELECT QueryKey, QueryText FROM OrleansQuery` and refuses to start unless all nine
--     keys below are present. CleanupDefunctSiloEntryKey is optional; when it is there the provider uses it
--     instead of CleanupDefunctSiloEntriesKey.
--   * It binds named parameters (@DeploymentId is the cluster id) and reads result columns by name; Npgsql
--     matches names case-insensitively, so the unquoted, lower-cased identifiers here are what it expects.
--     Quoting any identifier would break its hard-coded `FROM OrleansQuery`.
--   * "Did it work" answers are one row with one boolean column.
--   * Every insert or update of a membership row must move OrleansMembershipVersionTable.Version on by one,
--     and only when the caller still holds the current version (@Version). Heartbeats (IAmAliveTime) do not
--     move it.
--   * Status values: 3 = Active, 6 = Dead.
--
-- Changing a function's parameter names or result type needs a DROP FUNCTION first: CREATE OR REPLACE cannot.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL,
    QueryText text        NOT NULL,
    CONSTRAINT orleansquery_pkey PRIMARY KEY (QueryKey)
);

-- One row per cluster; Version is the membership table's etag.
CREATE TABLE IF NOT EXISTS OrleansMembershipVersionTable
(
    DeploymentId text        NOT NULL,
    Timestamp    timestamptz NOT NULL DEFAULT now(),
    Version      integer     NOT NULL DEFAULT 0,
    CONSTRAINT orleansmembershipversiontable_pkey PRIMARY KEY (DeploymentId)
);

-- One row per silo incarnation (address, port and generation).
CREATE TABLE IF NOT EXISTS OrleansMembershipTable
(
    DeploymentId text        NOT NULL,
    Address      text        NOT NULL,
    Port         integer     NOT NULL,
    Generation   integer     NOT NULL,
    SiloName     text        NOT NULL,
    HostName     text        NOT NULL,
    Status       integer     NOT NULL,
    ProxyPort    integer     NOT NULL DEFAULT 0,
    -- "silo,time|silo,time" as the provider formats it; NULL or empty when nobody suspects the silo.
    SuspectTimes text        NULL,
    StartTime    timestamptz NOT NULL,
    IAmAliveTime timestamptz NOT NULL,
    CONSTRAINT orleansmembershiptable_pkey PRIMARY KEY (DeploymentId, Address, Port, Generation),
    CONSTRAINT orleansmembershiptable_deploymentid_fkey
        FOREIGN KEY (DeploymentId) REFERENCES OrleansMembershipVersionTable (DeploymentId)
);

-- Adds a silo's row if the caller still holds the current table version. Locking the version row first makes
-- concurrent writers of one cluster take turns; the second one then finds the version moved on. An existing
-- row for the same silo leaves everything unchanged.
CREATE OR REPLACE FUNCTION orleans_membership_insert(
    cluster_id      text,
    silo_address    text,
    silo_port       integer,
    silo_generation integer,
    silo_name       text,
    host_name       text,
    silo_status     integer,
    gateway_port    integer,
    start_time      timestamptz,
    i_am_alive_time timestamptz,
    expected_version integer)
RETURNS boolean
LANGUAGE plpgsql
AS $body$
BEGIN
    PERFORM 1
       FROM OrleansMembershipVersionTable AS v
      WHERE v.DeploymentId = cluster_id
        AND v.Version = expected_version
        FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    INSERT INTO OrleansMembershipTable
        (DeploymentId, Address, Port, Generation, SiloName, HostName, Status, ProxyPort, StartTime, IAmAliveTime)
    VALUES
        (cluster_id, silo_address, silo_port, silo_generation, silo_name, host_name, silo_status, gateway_port,
         start_time, i_am_alive_time)
    ON CONFLICT (DeploymentId, Address, Port, Generation) DO NOTHING;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    UPDATE OrleansMembershipVersionTable AS v
       SET Version = v.Version + 1,
           Timestamp = now()
     WHERE v.DeploymentId = cluster_id;
    RETURN true;
END
$body$;

-- Changes a silo's status, suspicions and heartbeat if the caller still holds the current table version.
-- A missing row leaves the version where it was.
CREATE OR REPLACE FUNCTION orleans_membership_update(
    cluster_id      text,
    silo_address    text,
    silo_port       integer,
    silo_generation integer,
    silo_status     integer,
    suspect_times   text,
    i_am_alive_time timestamptz,
    expected_version integer)
RETURNS boolean
LANGUAGE plpgsql
AS $body$
BEGIN
    PERFORM 1
       FROM OrleansMembershipVersionTable AS v
      WHERE v.DeploymentId = cluster_id
        AND v.Version = expected_version
        FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    UPDATE OrleansMembershipTable AS m
       SET Status = silo_status,
           SuspectTimes = suspect_times,
           IAmAliveTime = i_am_alive_time
     WHERE m.DeploymentId = cluster_id
       AND m.Address = silo_address
       AND m.Port = silo_port
       AND m.Generation = silo_generation;
    IF NOT FOUND THEN
        RETURN false;
    END IF;

    UPDATE OrleansMembershipVersionTable AS v
       SET Version = v.Version + 1,
           Timestamp = now()
     WHERE v.DeploymentId = cluster_id;
    RETURN true;
END
$body$;

INSERT INTO OrleansQuery (QueryKey, QueryText)
VALUES
    -- Creates the cluster's version row; true only for the caller that created it.
    ('InsertMembershipVersionKey', $sql$
        WITH created AS (
            INSERT INTO OrleansMembershipVersionTable (DeploymentId)
            VALUES (@DeploymentId)
            ON CONFLICT (DeploymentId) DO NOTHING
            RETURNING 1)
        SELECT EXISTS (SELECT 1 FROM created);
    $sql$),

    ('InsertMembershipKey', $sql$
        SELECT orleans_membership_insert(
            @DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName, @Status, @ProxyPort,
            @StartTime, @IAmAliveTime, @Version);
    $sql$),

    ('UpdateMembershipKey', $sql$
        SELECT orleans_membership_update(
            @DeploymentId, @Address, @Port, @Generation, @Status, @SuspectTimes, @IAmAliveTime, @Version);
    $sql$),

    -- The heartbeat: leaves the table version alone.
    ('UpdateIAmAlivetimeKey', $sql$
        UPDATE OrleansMembershipTable
           SET IAmAliveTime = @IAmAliveTime
         WHERE DeploymentId = @DeploymentId
           AND Address = @Address
           AND Port = @Port
           AND Generation = @Generation;
    $sql$),

    -- Both reads start from the version row so that a cluster without silos still yields one row (with NULL
    -- member columns) carrying the version; the provider fails on an empty result.
    ('MembershipReadRowKey', $sql$
        SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
               m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
          FROM OrleansMembershipVersionTable AS v
          LEFT JOIN OrleansMembershipTable AS m
                 ON m.DeploymentId = v.DeploymentId
                AND m.Address = @Address
                AND m.Port = @Port
                AND m.Generation = @Generation
         WHERE v.DeploymentId = @DeploymentId;
    $sql$),

    ('MembershipReadAllKey', $sql$
        SELECT v.DeploymentId, m.Address, m.Port, m.Generation, m.SiloName, m.HostName, m.Status, m.ProxyPort,
               m.SuspectTimes, m.StartTime, m.IAmAliveTime, v.Version
          FROM OrleansMembershipVersionTable AS v
          LEFT JOIN OrleansMembershipTable AS m
                 ON m.DeploymentId = v.DeploymentId
         WHERE v.DeploymentId = @DeploymentId;
    $sql$),

    -- Clients find gateways here: active silos (@Status is 3) that listen for clients.
    ('GatewaysQueryKey', $sql$
        SELECT Address, ProxyPort, Generation
          FROM OrleansMembershipTable
         WHERE DeploymentId = @DeploymentId
           AND Status = @Status
           AND ProxyPort > 0;
    $sql$),

    ('DeleteMembershipTableEntriesKey', $sql$
        DELETE FROM OrleansMembershipTable WHERE DeploymentId = @DeploymentId;
        DELETE FROM OrleansMembershipVersionTable WHERE DeploymentId = @DeploymentId;
    $sql$),

    -- Forgets dead silos whose last heartbeat is older than @IAmAliveTime. Only used when the optional key
    -- below is missing.
    ('CleanupDefunctSiloEntriesKey', $sql$
        DELETE FROM OrleansMembershipTable
         WHERE DeploymentId = @DeploymentId
           AND Status = 6
           AND IAmAliveTime < @IAmAliveTime;
    $sql$),

    -- Optional. The provider reads all rows, picks dead silos whose start, heartbeat and suspicion times are all
    -- older than its cut-off, and deletes each one only if the row still holds what it read.
    ('CleanupDefunctSiloEntryKey', $sql$
        DELETE FROM OrleansMembershipTable
         WHERE DeploymentId = @DeploymentId
           AND Address = @Address
           AND Port = @Port
           AND Generation = @Generation
           AND Status = 6
           AND StartTime = @StartTime
           AND IAmAliveTime = @IAmAliveTime
           AND coalesce(SuspectTimes, '') = coalesce(@SuspectTimes, '');
    $sql$)
ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
