using System.Text.Json.Nodes;
using HomeServer.Storage;

namespace HomeServer.Grains.Federation.Outbound;

/// <summary>
/// One <c>PUT /send/{txnId}</c> transaction: its id (kept across retries), its body (built once, so a retry sends the
/// same bytes), and <see cref="Covers"/>, the global position up to which the destination is served once it is answered.
/// </summary>
internal sealed record OutboundTransaction(string Id, JsonObject Body, int PduCount, int EduCount, long Covers)
{
    /// <summary>The spec's limit of PDUs per transaction.</summary>
    public const int MaxPdus = 50;

    /// <summary>The spec's limit of EDUs per transaction.</summary>
    public const int MaxEdus = 100;

    public string Path => $"/_matrix/federation/v1/send/{Uri.EscapeDataString(Id)}";

    public static OutboundTransaction Build(
        string id, string origin, long originServerTs, IReadOnlyList<StoredEvent> events, long covers, IReadOnlyList<JsonObject>? edus = null)
    {
        edus ??= [];
        if (events.Count > MaxPdus) throw new ArgumentOutOfRangeException(nameof(events), $"A transaction holds at most {MaxPdus} PDUs.");
        if (edus.Count > MaxEdus) throw new ArgumentOutOfRangeException(nameof(edus), $"A transaction holds at most {MaxEdus} EDUs.");
        if (events.Count == 0 && edus.Count == 0) throw new ArgumentException("A transaction holds at least one PDU or EDU.", nameof(events));
        var pdus = new JsonArray();
        foreach (var stored in events) pdus.Add(ToFederationPdu(stored));
        var body = new JsonObject { ["origin"] = origin, ["origin_server_ts"] = originServerTs, ["pdus"] = pdus };
        if (edus.Count > 0) body["edus"] = new JsonArray([.. edus]);
        return new OutboundTransaction(id, body, events.Count, edus.Count, covers);
    }

    /// <summary>The event as stored (with this server's signatures), without the <c>unsigned</c> data this server keeps with it.</summary>
    private static JsonObject ToFederationPdu(StoredEvent stored)
    {
        var pdu = JsonNode.Parse(stored.Json)!.AsObject();
        pdu.Remove("unsigned");
        return pdu;
    }
}
