using System.Text.Json.Nodes;
using HomeServer.Storage;

namespace HomeServer.Grains.Federation.Outbound;

/// <summary>
/// One <c>PUT /send/{txnId}</c> transaction: its id (kept across retries), its body (built once, so a retry sends the
/// same bytes), and <see cref="Covers"/>, the global position up to which the destination is served once it is answered.
/// </summary>
internal sealed record OutboundTransaction(string Id, JsonObject Body, int PduCount, long Covers)
{
    /// <summary>The spec's limit of PDUs per transaction.</summary>
    public const int MaxPdus = 50;

    public string Path => $"/_matrix/federation/v1/send/{Uri.EscapeDataString(Id)}";

    public static OutboundTransaction Build(string id, string origin, long originServerTs, IReadOnlyList<StoredEvent> events, long covers)
    {
        if (events.Count is 0 or > MaxPdus) throw new ArgumentOutOfRangeException(nameof(events), $"A transaction holds 1 to {MaxPdus} PDUs.");
        var pdus = new JsonArray();
        foreach (var stored in events) pdus.Add(ToFederationPdu(stored));
        var body = new JsonObject { ["origin"] = origin, ["origin_server_ts"] = originServerTs, ["pdus"] = pdus };
        return new OutboundTransaction(id, body, events.Count, covers);
    }

    /// <summary>The event as stored (with this server's signatures), without the <c>unsigned</c> data this server keeps with it.</summary>
    private static JsonObject ToFederationPdu(StoredEvent stored)
    {
        var pdu = JsonNode.Parse(stored.Json)!.AsObject();
        pdu.Remove("unsigned");
        return pdu;
    }
}
