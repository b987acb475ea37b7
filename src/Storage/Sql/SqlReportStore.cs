using System.Data.Common;

namespace HomeServer.Storage.Sql;

internal sealed class SqlReportStore(SqlDatabase db) : IReportStore
{
    /// <summary>A report's reason, as long as a presence status message.</summary>
    public const int MaxReasonBytes = StoreLimits.MaxStatusMessageBytes;

    private const string Columns = "report_id, reporter_user_id, room_id, event_id, target_user_id, reason, score, received_ts";

    public async Task<long> AddReportAsync(NewReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        Guard.Identifier(report.ReporterUserId, nameof(report.ReporterUserId));
        Guard.OptionalIdentifier(report.RoomId, nameof(report.RoomId));
        Guard.OptionalIdentifier(report.EventId, nameof(report.EventId));
        Guard.OptionalIdentifier(report.TargetUserId, nameof(report.TargetUserId));
        Guard.OptionalText(report.Reason, MaxReasonBytes, nameof(report.Reason));
        Guard.Position(report.ReceivedTs, nameof(report.ReceivedTs));
        if ((report.RoomId is null) == (report.TargetUserId is null) || (report.EventId is not null && report.RoomId is null))
            throw new ArgumentException("A report names a room (and maybe one of its events) or a user.", nameof(report));
        return await db.WriteAsync((connection, transaction, ct) =>
            connection.Command(
                    "INSERT INTO content_reports (reporter_user_id, room_id, event_id, target_user_id, reason, score, received_ts) " +
                    "VALUES (@reporter, @room, @event, @target, @reason, @score, @ts) RETURNING report_id",
                    transaction)
                .With("@reporter", report.ReporterUserId)
                .With("@room", report.RoomId)
                .With("@event", report.EventId)
                .With("@target", report.TargetUserId)
                .With("@reason", report.Reason)
                .With("@score", report.Score)
                .With("@ts", report.ReceivedTs)
                .ScalarAsync<long>(ct),
            cancellationToken);
    }

    public async Task<IReadOnlyList<StoredReport>> GetReportsAsync(long? beforeId, int limit, CancellationToken cancellationToken)
    {
        Guard.Limit(limit, nameof(limit));
        return await db.ReadAsync(async (connection, ct) =>
            await connection.Command(
                    $"SELECT {Columns} FROM content_reports WHERE report_id < @before ORDER BY report_id DESC LIMIT @limit")
                .With("@before", beforeId ?? long.MaxValue)
                .With("@limit", limit)
                .ListAsync(ReadReport, ct),
            cancellationToken);
    }

    private static StoredReport ReadReport(DbDataReader reader) => new(
        reader.GetInt64(0),
        reader.GetString(1),
        reader.GetNullableString(2),
        reader.GetNullableString(3),
        reader.GetNullableString(4),
        reader.GetNullableString(5),
        reader.GetNullableInt64(6),
        reader.GetInt64(7));
}
