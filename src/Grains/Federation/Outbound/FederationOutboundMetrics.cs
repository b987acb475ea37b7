using System.Diagnostics.Metrics;

namespace HomeServer.Grains.Federation.Outbound;

/// <summary>
/// What outbound federation sends, on the <c>HomeServer.Federation.Outbound</c> meter (in <c>/_homeserver/admin/metrics</c>
/// with the other <c>HomeServer.*</c> meters): the cost of a destination's return, measured by bench/run.sh federation-*.
/// </summary>
public static class FederationOutboundMetrics
{
    public const string MeterName = "HomeServer.Federation.Outbound";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Transaction requests made, each retry counted.</summary>
    public static readonly Counter<long> TransactionAttempts = Meter.CreateCounter<long>("homeserver.federation.outbound.transaction_attempts");

    /// <summary>Transactions answered (200, or a 4xx that drops them).</summary>
    public static readonly Counter<long> TransactionsAnswered = Meter.CreateCounter<long>("homeserver.federation.outbound.transactions_answered");

    /// <summary>PDUs in answered transactions.</summary>
    public static readonly Counter<long> PdusAnswered = Meter.CreateCounter<long>("homeserver.federation.outbound.pdus_answered");

    /// <summary>Catch-ups started: a destination owed more than the threshold got the newest event per room.</summary>
    public static readonly Counter<long> CatchUps = Meter.CreateCounter<long>("homeserver.federation.outbound.catch_ups");
}
