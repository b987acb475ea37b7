using HomeServer.Storage;
using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Reports;

[GrainType("content-reports")]
[StatelessWorker]
public sealed class ContentReportsGrain(IHomeServerStore store) : HomeServerGrain, IContentReportsGrain
{
    public const int MaxReasonBytes = StoreLimits.MaxStatusMessageBytes;

    public async Task AddAsync(ContentReport report)
    {
        if (report.Reason is { } reason && (reason.Contains('\0') || System.Text.Encoding.UTF8.GetByteCount(reason) > MaxReasonBytes))
            throw MatrixRequestException.InvalidParam($"The reason must be at most {MaxReasonBytes} bytes without NUL characters.");
        if (report.Score is < -100 or > 0)
            throw MatrixRequestException.InvalidParam("score must be between -100 and 0.");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await store.Reports.AddReportAsync(
            new NewReport(report.ReporterUserId, report.RoomId, report.EventId, report.TargetUserId, report.Reason, report.Score, now),
            CancellationToken.None);
    }

    public async Task<ContentReportPage> ListAsync(long? before, int limit)
    {
        limit = Math.Clamp(limit, 1, 1000);
        var rows = await store.Reports.GetReportsAsync(before, limit + 1, CancellationToken.None);
        var page = rows.Take(limit)
            .Select(r => new StoredContentReport(r.ReportId, new ContentReport(r.ReporterUserId, r.RoomId, r.EventId, r.TargetUserId, r.Reason, r.Score), r.ReceivedTs))
            .ToList();
        return new ContentReportPage(page, rows.Count > limit ? page[^1].Id : null);
    }
}
