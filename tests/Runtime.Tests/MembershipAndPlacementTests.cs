using HomeServer.Runtime.Membership;
using HomeServer.Runtime.Placement;

namespace HomeServer.Runtime.Tests;

public sealed class MembershipAndPlacementTests
{
    private static MembershipEntry Entry(int port, SiloStatus status = SiloStatus.Active) =>
        new(new SiloAddress("127.0.0.1", port, 1), $"s{port}", status, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, []);

    [Fact]
    public void Silo_addresses_round_trip_through_text()
    {
        var address = new SiloAddress("10.1.2.3", 11111, 1234567890123);
        Assert.Equal(address, SiloAddress.Parse(address.ToString()));
        Assert.Throws<FormatException>(() => SiloAddress.Parse("nonsense"));
    }

    [Fact]
    public void Views_list_only_active_silos()
    {
        var view = new ClusterView(new MembershipSnapshot([Entry(3), Entry(1), Entry(2, SiloStatus.ShuttingDown), Entry(4, SiloStatus.Dead)], 7));
        Assert.Equal([1, 3], view.ActiveSilos.Select(s => s.Port));
        Assert.Equal(SiloStatus.ShuttingDown, view.StatusOf(Entry(2).Address));
    }

    [Fact]
    public void Rendezvous_placement_is_even_and_moves_only_the_leaving_silos_grains_spread_over_the_rest()
    {
        var silos = Enumerable.Range(1, 4).Select(p => new SiloAddress("127.0.0.1", 11110 + p, p)).ToArray();
        var grains = Enumerable.Range(0, 20_000).Select(i => new GrainId("room", $"!room{i}:example.org")).ToArray();
        var before = grains.ToDictionary(g => g, g => RendezvousPlacement.SelectOwner(g, silos)!);
        foreach (var silo in silos) Assert.InRange(before.Values.Count(s => s == silo), 4500, 5500);

        var remaining = silos.Where(s => s != silos[2]).ToArray();
        var after = grains.ToDictionary(g => g, g => RendezvousPlacement.SelectOwner(g, remaining)!);
        Assert.All(grains.Where(g => before[g] != silos[2]), g => Assert.Equal(before[g], after[g]));
        var moved = grains.Where(g => before[g] == silos[2]).Select(g => after[g]).ToArray();
        foreach (var silo in remaining) Assert.InRange(moved.Count(s => s == silo), moved.Length / 3 * 0.85, moved.Length / 3 * 1.15);
    }

    [Fact]
    public void A_restarted_silo_on_the_same_endpoint_owns_the_same_grains()
    {
        var first = new[] { new SiloAddress("127.0.0.1", 1, 1), new SiloAddress("127.0.0.1", 2, 1) };
        var restarted = new[] { first[0], first[1] with { Generation = 2 } };
        for (var i = 0; i < 1000; i++)
        {
            var grain = new GrainId("user", $"@u{i}:x");
            Assert.Equal(RendezvousPlacement.SelectOwner(grain, first)!.Port, RendezvousPlacement.SelectOwner(grain, restarted)!.Port);
        }
        Assert.Null(RendezvousPlacement.SelectOwner(new GrainId("user", "x"), []));
    }

    [Fact]
    public void Stable_hashes_do_not_depend_on_the_process()
    {
        // FNV-1a 64 of "room/!a:b" computed independently: placement must agree across processes and builds, unlike string.GetHashCode.
        Assert.Equal(new GrainId("room", "!a:b").StableHash(), new GrainId("room", "!a:b").StableHash());
        Assert.Equal(0xCC2529B3DBCC9089UL, new GrainId("room", "!a:b").StableHash());
    }
}
