namespace HomeServer.Storage;

/// <summary>Reports of rooms, events and users, kept for the server's admins.</summary>
public interface IReportStore
{
    /// <summary>Stores the report and returns its id (increasing).</summary>
    Task<long> AddReportAsync(NewReport report, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="limit"/> reports with an id below <paramref name="beforeId"/> (null: the newest), newest first.</summary>
    Task<IReadOnlyList<StoredReport>> GetReportsAsync(long? beforeId, int limit, CancellationToken cancellationToken);
}

/// <param name="RoomId">Set for room and event reports.</param>
/// <param name="EventId">Set for event reports.</param>
/// <param name="TargetUserId">Set for user reports.</param>
public sealed record NewReport(
    string ReporterUserId, string? RoomId, string? EventId, string? TargetUserId, string? Reason, long? Score, long ReceivedTs);

public sealed record StoredReport(
    long ReportId, string ReporterUserId, string? RoomId, string? EventId, string? TargetUserId, string? Reason, long? Score, long ReceivedTs);
