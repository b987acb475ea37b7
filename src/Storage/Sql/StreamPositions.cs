using System.Data.Common;

namespace HomeServer.Storage.Sql;

/// <summary>
/// Monotonic positions of the events, account-data, receipt, presence and to-device streams, one counter row each.
/// Allocating updates the row, which stays locked until the transaction commits, so writers of one
/// stream commit in position order: a reader that sees position p also sees every smaller position
/// (a plain sequence would let p+1 commit before p and a sync reader skip p for good).
/// </summary>
internal static class StreamPositions
{
    public const string Events = "events";
    public const string AccountData = "account_data";
    public const string Receipts = "receipts";
    public const string Presence = "presence";
    public const string ToDevice = "to_device";
    public const string DeviceLists = "device_lists";

    /// <summary>Reserves <paramref name="count"/> positions and returns the last; the first is last - count + 1.</summary>
    public static async Task<long> AllocateAsync(
        DbConnection connection, DbTransaction transaction, string stream, int count, CancellationToken ct) =>
        await connection.Command(
                "UPDATE stream_positions SET position = position + @count WHERE stream = @stream RETURNING position",
                transaction)
            .With("@count", (long)count)
            .With("@stream", stream)
            .ScalarAsync<long>(ct);

    public static Task<long> CurrentAsync(SqlDatabase db, string stream, CancellationToken cancellationToken) =>
        db.ReadAsync((connection, ct) =>
            connection.Command("SELECT position FROM stream_positions WHERE stream = @stream")
                .With("@stream", stream)
                .ScalarAsync<long>(ct),
            cancellationToken);
}
