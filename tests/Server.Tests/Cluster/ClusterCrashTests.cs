using System.Diagnostics;
using System.Net;
using Xunit.Abstractions;

namespace HomeServer.Server.Tests.Cluster;

/// <summary>
/// Processes of the deploy/local cluster killed with SIGKILL again and again under client load through nginx,
/// each at another moment, and what every member's /sync delivered (gaps of limited timelines filled with /messages, as a
/// client does): every acknowledged message once and in order,
/// no timeline <c>limited</c> unless more messages than the filter's limit came in between, and how late messages
/// arrived after the killed process was back.
/// </summary>
[Collection(LocalClusterCollection.Name)]
public sealed class ClusterCrashTests(ITestOutputHelper output)
{
    private const int Rooms = 4;
    private const int MembersPerRoom = 5;
    /// <summary>The server's default, and what matrix-js-sdk effectively asks for.</summary>
    private const int TimelineLimit = 10;
    private const int SiloKills = 5;
    private const int GatewayKills = 2;
    private const int BurstSize = 5;
    private static readonly TimeSpan SendInterval = TimeSpan.FromMilliseconds(250);
    /// <summary>Steady load between one process being back and the next kill, so late deliveries show.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan AllowedLateness = TimeSpan.FromSeconds(1);
    /// <summary>Beyond this a member waited for a message long enough to notice; below it, the 2-core machine's jitter.</summary>
    private static readonly TimeSpan UnacceptableLateness = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CatchUp = TimeSpan.FromSeconds(15);

    /// <summary>When, relative to the traffic, a process is killed.</summary>
    private enum Moment
    {
        /// <summary>While every room's sender sends a burst: commits in flight on every silo.</summary>
        InCommitBurst,
        /// <summary>Right after a burst was acknowledged: its events are being fanned out to the members' syncs.</summary>
        InFanOut,
        /// <summary>At a random point of the ordinary send interval.</summary>
        Steady,
    }

    private static readonly Moment[] Moments = [Moment.InCommitBurst, Moment.InFanOut, Moment.Steady];

    [Fact]
    public async Task Silos_killed_again_and_again_under_load_lose_no_acknowledged_message_in_any_members_sync()
    {
        var clock = Stopwatch.StartNew();
        await using var cluster = await LocalCluster.StartAsync(output);
        var admin = await ProcessCluster.RegisterAdminAsync(cluster.Client, "operator");
        var load = await ChatLoad.SetUpAsync(cluster.Client, Rooms, MembersPerRoom, SendInterval, TimelineLimit);
        load.Start();
        await Task.Delay(Settle);

        for (var run = 0; run < SiloKills; run++)
        {
            // Silos in turn; the moments shift by one each round so no silo is always killed at the same moment.
            var silo = run % LocalCluster.SiloCount + 1;
            var moment = Moments[(run + run / LocalCluster.SiloCount) % Moments.Length];
            await KillAndRestartSiloAsync(cluster, admin, load, silo, moment);
            await Task.Delay(Settle);
        }
        await load.StopAsync(CatchUp);

        await ReportAndAssertAsync(cluster, load, SiloKills, clock.Elapsed);
    }

    [Fact]
    public async Task Gateways_killed_under_load_lose_no_acknowledged_message_in_any_members_sync()
    {
        var clock = Stopwatch.StartNew();
        await using var cluster = await LocalCluster.StartAsync(output);
        var load = await ChatLoad.SetUpAsync(cluster.Client, Rooms, MembersPerRoom, SendInterval, TimelineLimit);
        load.Start();
        await Task.Delay(Settle);

        for (var run = 0; run < GatewayKills; run++)
        {
            await KillAndRestartGatewayAsync(cluster, load, run % LocalCluster.GatewayCount + 1, Moments[run % Moments.Length]);
            await Task.Delay(Settle);
        }
        await load.StopAsync(CatchUp);

        await ReportAndAssertAsync(cluster, load, GatewayKills, clock.Elapsed);
    }

    private async Task KillAndRestartSiloAsync(LocalCluster cluster, string admin, ChatLoad load, int silo, Moment moment)
    {
        var victim = (await cluster.ReadSiloAsync(silo)).Address!;
        await ReachAsync(load, moment);
        var killedAt = load.Now;
        cluster.KillSilo(silo);
        await cluster.WaitForMembershipStatusAsync(admin, victim, "Dead", TimeSpan.FromSeconds(60));
        var deadAt = load.Now;
        await cluster.DrainSiloAsync(silo); // nothing to drain: starts it again
        var rejoined = (await cluster.ReadSiloAsync(silo)).Address!;
        await cluster.WaitForMembershipStatusAsync(admin, rejoined, "Active", TimeSpan.FromSeconds(60));
        var backAt = load.Now;
        load.RecordOutage(killedAt, backAt);
        output.WriteLine($"silo{silo} killed {moment} at {killedAt.TotalSeconds:0.0} s, declared dead after {(deadAt - killedAt).TotalSeconds:0.0} s, " +
            $"Active again as {rejoined} after {(backAt - killedAt).TotalSeconds:0.0} s");
    }

    private async Task KillAndRestartGatewayAsync(LocalCluster cluster, ChatLoad load, int gateway, Moment moment)
    {
        await ReachAsync(load, moment);
        var killedAt = load.Now;
        cluster.KillGateway(gateway);
        await Task.Delay(TimeSpan.FromSeconds(1)); // long enough for requests to meet the dead gateway
        await cluster.DrainGatewayAsync(gateway); // nothing to drain: starts it again and waits until it is ready
        var backAt = load.Now;
        load.RecordOutage(killedAt, backAt);
        output.WriteLine($"gateway{gateway} killed {moment} at {killedAt.TotalSeconds:0.0} s, ready again after {(backAt - killedAt).TotalSeconds:0.0} s");
    }

    private static async Task ReachAsync(ChatLoad load, Moment moment)
    {
        switch (moment)
        {
            case Moment.InCommitBurst:
                load.Burst(BurstSize);
                await Task.Delay(TimeSpan.FromMilliseconds(30));
                break;
            case Moment.InFanOut:
                load.Burst(BurstSize);
                await load.WaitForAcknowledgementsAsync(Rooms * BurstSize, TimeSpan.FromSeconds(30));
                break;
            case Moment.Steady:
                await Task.Delay(Random.Shared.Next((int)SendInterval.TotalMilliseconds));
                break;
        }
    }

    private async Task ReportAndAssertAsync(LocalCluster cluster, ChatLoad load, int killRuns, TimeSpan elapsed)
    {
        var lateness = load.MeasureLateness(AllowedLateness);
        var unacceptable = load.MeasureLateness(UnacceptableLateness);
        var problems = load.DeliveryProblems(duplicatesAllowed: false);
        output.WriteLine($"SUMMARY: {killRuns} kill runs; {lateness.Checked} events checked (member × message), " +
            $"{lateness.Late} late deliveries (> {AllowedLateness.TotalSeconds:0} s after acknowledgement or restart), {lateness.Missing} never delivered, " +
            $"latest {lateness.Worst.TotalSeconds:0.0} s (longest since acknowledgement {lateness.WorstSinceAcknowledged.TotalSeconds:0.0} s); " +
            $"{load.LimitedTimelines} limited timelines, {load.UnwarrantedLimits.Count} of them unwarranted (limit {TimelineLimit}), " +
            $"{load.SkippedByLimits} messages skipped by them, {load.Backfilled} fetched back with /messages; {problems.Count} members with delivery problems; {load.AcknowledgedCount} messages acknowledged, " +
            $"{load.AbandonedSends} abandoned, {load.Failures.Count} failed attempts, the slowest send {load.SlowestSend.TotalSeconds:0.0} s; " +
            $"{elapsed.TotalSeconds:0} s with cluster start");
        output.WriteLine($"unwarranted limited timelines:\n{string.Join('\n', load.UnwarrantedLimits.Take(20))}");
        output.WriteLine($"delivery problems:\n{string.Join('\n', problems)}");
        output.WriteLine($"late deliveries (load clock started {load.StartedAtUtc:HH:mm:ss.fff} UTC):\n{string.Join('\n', lateness.LateDeliveries.Take(10))}");
        output.WriteLine($"failed attempts, all retried:\n{string.Join('\n', load.Failures.Take(20))}");

        Assert.Equal(0, load.AbandonedSends);
        Assert.All(load.Failures, f =>
        {
            Assert.True(f.Status is null or (int)HttpStatusCode.ServiceUnavailable, $"{f} is neither 503 nor a connection failure");
            Assert.DoesNotContain("M_UNKNOWN", f.Body);
        });
        // The store is checked first so that a failure below is known to be the delivery's, not a lost event.
        await ClusterFaultTests.AssertEveryAcknowledgedSendStoredOnceInOrderAsync(cluster.Client, load);
        Assert.True(load.UnwarrantedLimits.Count == 0,
            $"{load.UnwarrantedLimits.Count} limited timelines with no more than {TimelineLimit} messages in between:\n" +
            string.Join('\n', load.UnwarrantedLimits.Take(20)));
        Assert.True(problems.Count == 0, string.Join('\n', problems));
        Assert.True(unacceptable.Late == 0,
            $"{unacceptable.Late} deliveries more than {UnacceptableLateness.TotalSeconds:0} s after their acknowledgement or the restart:\n" +
            string.Join('\n', unacceptable.LateDeliveries.Take(5)));
    }
}
