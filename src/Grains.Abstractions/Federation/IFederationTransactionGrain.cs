using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Federation;

/// <summary>
/// The transactions one other server sends to this one (<c>PUT /_matrix/federation/v1/send/{txnId}</c>); key: the
/// origin's server name. One activation per origin handles its transactions one at a time, as the spec has the origin
/// send them, and answers a retried transaction id with the answer it gave (docs/adr/0036-inbound-transactions.md).
/// </summary>
[Alias("federation-transaction")]
public interface IFederationTransactionGrain : IGrainWithStringKey
{
    /// <summary>Processes the transaction body and returns the response body (<c>{"pdus": {...}}</c>).</summary>
    /// <exception cref="MatrixRequestException">M_BAD_JSON (400) for a malformed transaction or one over the limits.</exception>
    [return: Immutable]
    Task<byte[]> ReceiveAsync(string transactionId, [Immutable] byte[] body);
}
