using HomeServer.Grains.ToDevice;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Rooms;
using Microsoft.Extensions.Logging;
using Orleans;
using Orleans.Runtime;

namespace HomeServer.Grains.Federation.Transactions;

/// <summary>
/// The transactions of one origin server (key: its name). Not reentrant: the origin's transactions are processed one
/// at a time and in order, and a retry arriving while the first attempt runs waits for it and gets its answer.
/// Each PDU goes to its room's grain, in the transaction's order; EDUs follow. See docs/adr/0036-inbound-transactions.md.
/// </summary>
[GrainType("federation-transaction")]
public sealed class FederationTransactionGrain(LocalServer server, ILogger<FederationTransactionGrain> logger)
    : HomeServerGrain, IFederationTransactionGrain
{
    /// <summary>How many answered transaction ids are remembered. A sender retries only its newest transaction.</summary>
    private const int RememberedTransactions = 64;

    private readonly Dictionary<string, byte[]> _answers = new(StringComparer.Ordinal);
    private readonly Queue<string> _answerOrder = new();

    public async Task<byte[]> ReceiveAsync(string transactionId, byte[] body)
    {
        if (Key == server.Name) throw MatrixRequestException.Forbidden("This server does not send transactions to itself.");
        if (_answers.TryGetValue(transactionId, out var answered)) return answered;

        var transaction = InboundTransaction.Parse(body);
        var results = new List<ReceivedPduResult>();
        foreach (var pdu in transaction.Pdus)
        {
            if (pdu.RoomId is not { } roomId || !RoomId.IsValid(roomId)) continue; // No room, no version: no event id to answer under.
            if (await ReceivePduAsync(roomId, pdu) is { } result) results.Add(result);
        }
        await ReceiveEdusAsync(transaction);
        await InboundPresenceEdus.ReceiveAsync(GrainFactory, Key, body, logger);
        await InboundSigningKeyEdus.ReceiveAsync(GrainFactory, Key, body);

        var answer = JsonOutput.Write(writer =>
        {
            writer.WriteStartObject();
            writer.WriteStartObject("pdus");
            foreach (var result in results)
            {
                if (result.EventId is null) continue;
                writer.WriteStartObject(result.EventId);
                if (result.Error is { } error) writer.WriteString("error", error);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
            writer.WriteEndObject();
        });
        Remember(transactionId, answer);
        return answer;
    }

    /// <summary>
    /// A temporary failure (store, busy room, cluster) fails the transaction, which the origin then sends again. Any
    /// other failure is this PDU's alone: it is logged and left out of the answer, so that one event this server cannot
    /// handle does not stop every later transaction of the origin.
    /// </summary>
    private async Task<ReceivedPduResult?> ReceivePduAsync(string roomId, TransactionPdu pdu)
    {
        try
        {
            return await GrainFactory.GetGrain<IRoomGrain>(roomId).ReceivePduAsync(Key, pdu.Json);
        }
        catch (Exception e) when (e is not (StoreUnavailableError or RoomBusyException or TimeoutException or OperationCanceledException or OrleansException))
        {
            logger.LogError(e, "A PDU of {Origin} for {RoomId} could not be handled", Key, roomId);
            return null;
        }
    }

    private async Task ReceiveEdusAsync(InboundTransaction transaction)
    {
        foreach (var typing in transaction.Typing)
        {
            if (!RoomId.IsValid(typing.RoomId)) continue;
            await IgnoringRefusals(() => GrainFactory.GetGrain<IRoomGrain>(typing.RoomId).ReceiveTypingAsync(Key, typing.UserId, typing.Typing));
        }
        foreach (var (roomId, receipts) in transaction.Receipts)
            await IgnoringRefusals(() => GrainFactory.GetGrain<IRoomGrain>(roomId).ReceiveReceiptsAsync(Key, receipts));
        foreach (var edu in transaction.DirectToDevice)
        {
            // Only the origin speaks for its users.
            if (!UserId.TryParse(edu.Sender, out var sender) || sender.Server.Value != Key) continue;
            await IgnoringRefusals(() => GrainFactory.GetGrain<IToDeviceGrain>(edu.Sender).ReceiveFromServerAsync(edu.Send));
        }
        foreach (var userId in transaction.DeviceListUpdates)
        {
            if (!UserId.TryParse(userId, out var user) || user.Server.Value != Key) continue;
            await GrainFactory.GetGrain<HomeServer.Grains.Keys.IKeyQueryGrain>("local").RemoteDeviceListChangedAsync(userId);
        }
    }

    /// <summary>An EDU is a hint about the moment: one the room refuses is dropped and the transaction goes on.</summary>
    private async Task IgnoringRefusals(Func<Task> receive)
    {
        try
        {
            await receive();
        }
        catch (MatrixRequestException e)
        {
            logger.LogDebug("An EDU of {Origin} was dropped: {Error}", Key, e.Message);
        }
    }

    private void Remember(string transactionId, byte[] answer)
    {
        _answers[transactionId] = answer;
        _answerOrder.Enqueue(transactionId);
        while (_answerOrder.Count > RememberedTransactions) _answers.Remove(_answerOrder.Dequeue());
    }
}
