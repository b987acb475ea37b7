using System.Text;
using HomeServer.Storage.Tests.Backends;

namespace HomeServer.Storage.Tests.Conformance;

/// <summary>The durable EDUs owed to other servers (to-device messages), kept per destination until delivered.</summary>
public abstract class FederationOutboxStoreTests<TBackend> : StoreTestBase<TBackend>
    where TBackend : ITestStoreBackend, new()
{
    private const string Remote = "remote.example";
    private const string Other = "other.example";

    private static NewOutboxEdu Edu(string destination, string text) =>
        new(destination, "m.direct_to_device", Encoding.UTF8.GetBytes($"{{\"text\":\"{text}\"}}"), 1_000);

    private static string Text(OutboxEdu edu) => Encoding.UTF8.GetString(edu.Content);

    [Fact]
    public async Task EDUs_are_read_per_destination_in_order_survive_reopening_and_go_once_deleted()
    {
        await Store.FederationOutbox.EnqueueAsync([Edu(Remote, "a"), Edu(Other, "x"), Edu(Remote, "b")], Ct);
        await Store.FederationOutbox.EnqueueAsync([Edu(Remote, "c")], Ct);
        await ReopenAsync();

        Assert.Equal([Other, Remote], await Store.FederationOutbox.ListDestinationsAsync(Ct));
        var first = await Store.FederationOutbox.GetAsync(Remote, 2, Ct);
        Assert.Equal(["{\"text\":\"a\"}", "{\"text\":\"b\"}"], first.Select(Text));
        Assert.All(first, e => Assert.Equal("m.direct_to_device", e.EduType));

        await Store.FederationOutbox.DeleteAsync(Remote, [.. first.Select(e => e.Id)], Ct);

        Assert.Equal(["{\"text\":\"c\"}"], (await Store.FederationOutbox.GetAsync(Remote, 10, Ct)).Select(Text));
        Assert.Single(await Store.FederationOutbox.GetAsync(Other, 10, Ct));
        // Ids of another destination delete nothing here.
        await Store.FederationOutbox.DeleteAsync(Other, [.. first.Select(e => e.Id)], Ct);
        Assert.Single(await Store.FederationOutbox.GetAsync(Other, 10, Ct));
    }

    [Fact]
    public async Task A_destination_with_nothing_left_is_not_listed()
    {
        await Store.FederationOutbox.EnqueueAsync([Edu(Remote, "a")], Ct);
        var edus = await Store.FederationOutbox.GetAsync(Remote, 10, Ct);
        await Store.FederationOutbox.DeleteAsync(Remote, [.. edus.Select(e => e.Id)], Ct);

        Assert.Empty(await Store.FederationOutbox.ListDestinationsAsync(Ct));
        Assert.Empty(await Store.FederationOutbox.GetAsync(Remote, 10, Ct));
    }
}
