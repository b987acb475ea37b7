using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

public abstract class FilterTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    protected override async Task SeedAsync()
    {
        await CreateAccountAsync(Alice);
        await CreateAccountAsync(Bob);
    }

    [Fact]
    public async Task Filter_ids_count_up_per_user_from_zero()
    {
        var f0 = TestEvents.Json(new { room = new { timeline = new { limit = 10 } } });
        var f1 = TestEvents.Json(new { presence = new { types = Array.Empty<string>() } });

        Assert.Equal(0, await Store.Filters.CreateFilterAsync(Alice, f0, Ct));
        Assert.Equal(1, await Store.Filters.CreateFilterAsync(Alice, f1, Ct));
        Assert.Equal(0, await Store.Filters.CreateFilterAsync(Bob, f1, Ct));

        Assert.Equal(f0, await Store.Filters.GetFilterAsync(Alice, 0, Ct));
        Assert.Equal(f1, await Store.Filters.GetFilterAsync(Alice, 1, Ct));
        Assert.Equal(f1, await Store.Filters.GetFilterAsync(Bob, 0, Ct));
        Assert.Null(await Store.Filters.GetFilterAsync(Bob, 1, Ct));
        Assert.Null(await Store.Filters.GetFilterAsync(Carol, 0, Ct));
    }

    [Fact]
    public async Task Concurrent_creates_get_distinct_ids()
    {
        var second = await OpenSecondStoreAsync();
        var ids = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            (i % 2 == 0 ? Store : second).Filters.CreateFilterAsync(Alice, TestEvents.Json(new { n = i }), Ct)));

        Assert.Equal(Enumerable.Range(0, 12).Select(i => (long)i), ids.Order());
    }

    [Fact]
    public async Task A_filter_of_an_unknown_user_is_refused()
    {
        await Assert.ThrowsAsync<EntityNotFoundException>(() =>
            Store.Filters.CreateFilterAsync(Carol, TestEvents.Json(new { }), Ct));
    }
}
