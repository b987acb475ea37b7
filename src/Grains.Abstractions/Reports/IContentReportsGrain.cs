using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Reports;

/// <summary>A report of a room, an event or a user, as a client filed it.</summary>
/// <param name="RoomId">Set for room and event reports.</param>
/// <param name="EventId">Set for event reports.</param>
/// <param name="TargetUserId">Set for user reports.</param>
/// <param name="Score">Event reports only: -100 (most offensive) to 0, as older clients still send it.</param>
[GenerateSerializer, Alias("hs.ContentReport")]
public sealed record ContentReport(string ReporterUserId, string? RoomId, string? EventId, string? TargetUserId, string? Reason, long? Score);

/// <summary>A stored report, with its id and when it was received (ms since the epoch).</summary>
[GenerateSerializer, Alias("hs.StoredContentReport")]
public sealed record StoredContentReport(long Id, ContentReport Report, long ReceivedTs);

/// <summary>One page of reports, newest first; <paramref name="NextBefore"/> continues with older ones (null: no more).</summary>
[GenerateSerializer, Alias("hs.ContentReportPage")]
public sealed record ContentReportPage(IReadOnlyList<StoredContentReport> Reports, long? NextBefore);

/// <summary>
/// Keeps reports for the server's admins (key: any string, e.g. "local"; a stateless worker). The caller has checked
/// that the reported room, event or user exists for the reporter.
/// </summary>
[Alias("content-reports")]
public interface IContentReportsGrain : IGrainWithStringKey
{
    Task AddAsync(ContentReport report);

    /// <summary>Up to <paramref name="limit"/> reports older than report <paramref name="before"/> (null: the newest).</summary>
    [Idempotent]
    Task<ContentReportPage> ListAsync(long? before, int limit);
}
