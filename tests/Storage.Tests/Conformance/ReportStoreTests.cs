using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

/// <summary>Reports of rooms, events and users kept for admins.</summary>
public abstract class ReportStoreTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    [Fact]
    public async Task Reports_are_stored_and_listed_newest_first_in_pages()
    {
        var room = await Store.Reports.AddReportAsync(new NewReport(Alice, RoomA, null, null, "spam room", null, 1000), Ct);
        var evt = await Store.Reports.AddReportAsync(new NewReport(Bob, RoomA, "$event", null, null, -100, 2000), Ct);
        var user = await Store.Reports.AddReportAsync(new NewReport(Carol, null, null, Alice, "", null, 3000), Ct);
        Assert.True(room < evt && evt < user);

        var all = await Store.Reports.GetReportsAsync(null, 10, Ct);
        Assert.Equal(
            [
                new StoredReport(user, Carol, null, null, Alice, "", null, 3000),
                new StoredReport(evt, Bob, RoomA, "$event", null, null, -100, 2000),
                new StoredReport(room, Alice, RoomA, null, null, "spam room", null, 1000),
            ],
            all);
        Assert.Equal([user, evt], (await Store.Reports.GetReportsAsync(null, 2, Ct)).Select(r => r.ReportId));
        Assert.Equal([room], (await Store.Reports.GetReportsAsync(evt, 2, Ct)).Select(r => r.ReportId));
        Assert.Empty(await Store.Reports.GetReportsAsync(room, 2, Ct));
    }

    [Fact]
    public async Task A_report_names_a_room_or_a_user_and_bad_values_store_nothing()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.Reports.AddReportAsync(new NewReport(Alice, null, null, null, "x", null, 1), Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.Reports.AddReportAsync(new NewReport(Alice, RoomA, null, Bob, "x", null, 1), Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.Reports.AddReportAsync(new NewReport(Alice, null, "$e", Bob, "x", null, 1), Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.Reports.AddReportAsync(new NewReport(Alice, RoomA, null, null, new string('r', 5000), null, 1), Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.Reports.AddReportAsync(new NewReport(Alice, RoomA, null, null, "x", null, -1), Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.Reports.GetReportsAsync(null, 0, Ct));
        Assert.Equal(0, await CountRowsAsync("content_reports"));
    }
}
