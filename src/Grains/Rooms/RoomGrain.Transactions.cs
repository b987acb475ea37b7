using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Joins;
using HomeServer.Grains.Federation.Transactions;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Sync;
using HomeServer.Storage;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Events and EDUs another server sends in its transactions (<c>PUT /_matrix/federation/v1/send</c>). The room keeps one
/// newest event (docs/adr/0006, 0034), so a PDU is appended only when it extends that event; everything else is
/// answered with an error and stores nothing. See docs/adr/0036-inbound-transactions.md.
/// </summary>
public sealed partial class RoomGrain
{
    /// <summary>The timeout of a remote user's typing: the EDU carries none, and its server repeats it while the user types.</summary>
    internal const long RemoteTypingTimeoutMs = 30_000;

    public async Task<ReceivedPduResult> ReceivePduAsync(string origin, byte[] json)
    {
        await RemoteJoinFinished(); // see RoomGrain.RemoteJoins.cs
        if (_writer.Current is not { Exists: true } snapshot) return new ReceivedPduResult(null, "M_NOT_FOUND: This server does not know the room.");
        var version = snapshot.Version;
        JsonObject? pdu;
        try
        {
            pdu = JsonNode.Parse(json) as JsonObject;
        }
        catch (JsonException)
        {
            pdu = null;
        }
        // A PDU without an id in its room version's format cannot be answered for: it is dropped, as the spec has it.
        if (pdu is null) return new ReceivedPduResult(null, "M_BAD_JSON: The PDU is not a JSON object.");
        pdu.Remove("unsigned");
        if (EventIdOf(version, pdu) is not { } eventId) return new ReceivedPduResult(null, "M_BAD_JSON: The PDU has no valid event ID.");

        try
        {
            PduFormat.Check(version, pdu);
            await AcceptPduAsync(origin, version, eventId, pdu);
            return new ReceivedPduResult(eventId.Value, null);
        }
        catch (MatrixRequestException refused)
        {
            return new ReceivedPduResult(eventId.Value, refused.Message);
        }
    }

    /// <summary>
    /// The spec's checks on receipt of a PDU, in its order, as far as a linear room needs them; throws the refusal.
    /// In a linear room the state before the event is the current state, so the checks against the two are one (in
    /// <see cref="RoomBatchBuilder.AddReceived"/>, atomic with the append) and a failure there is a rejection: an
    /// event is never soft-failed here.
    /// </summary>
    private async Task AcceptPduAsync(string origin, RoomVersion version, Identifiers.EventId eventId, JsonObject pdu)
    {
        if (pdu["room_id"]!.GetValue<string>() != RoomId) throw MatrixRequestException.InvalidParam("The event is not for this room.");
        var snapshot = RequireServerInRoom(origin);
        var sender = UserId.Parse(pdu["sender"]!.GetValue<string>());
        if (sender.Server.ToString() != origin) throw MatrixRequestException.Forbidden($"The sender {sender} is not a user of {origin}.");

        var known = await store.Events.GetEventAsync(eventId.Value, CancellationToken.None);
        if (known is not null)
        {
            // Received before (a retried transaction, or the same event from two transactions): nothing to do.
            if (known.RoomId == RoomId) return;
            throw MatrixRequestException.InvalidParam("The event id names an event of another room.");
        }

        await VerifySignaturesAsync(version, pdu);
        // The spec: an event whose content hash does not match is redacted, and the redacted copy goes on.
        if (!ReceivedJoinEvent.HasValidContentHash(version, pdu)) pdu = EventRedactor.Redact(version, pdu);
        var canonical = CanonicalJson.Encode(pdu, version.StrictCanonicalJson);
        var received = new BuiltEvent(eventId, canonical, Pdu.Parse(eventId, canonical));

        await RequireNewestAsPrevAsync(snapshot, received.Pdu);
        await AuthoriseByAuthEventsAsync(snapshot, received.Pdu);
        var redacted = received.Pdu.Type == EventTypes.Redaction && RedactionAuthorizer.GetRedactedEventId(version, received.Pdu) is { } target
            ? await StoredEventOfRoomAsync(target.Value)
            : null;

        await _writer.SubmitAsync(builder =>
        {
            if (builder.View.LastEventId == eventId) return eventId.Value; // The same event, appended by a concurrent request.
            builder.AddReceived(received, redacted);
            return eventId.Value;
        });
    }

    /// <summary>
    /// Only an event whose one previous event is the room's newest is appended. Fetching missing previous events
    /// (<c>/get_missing_events</c>) and forks (state resolution, docs/adr/0030) are not built yet.
    /// </summary>
    private async Task RequireNewestAsPrevAsync(RoomSnapshot snapshot, Pdu pdu)
    {
        if (pdu.PrevEvents.Count == 1 && snapshot.LastEventId is { } last && pdu.PrevEvents[0] == last.Value) return;
        foreach (var prev in pdu.PrevEvents)
        {
            if (await StoredEventOfRoomAsync(prev) is null)
                throw MatrixRequestException.NotFound($"The previous event {prev} is not known here; this server does not fetch missing events yet.");
        }
        throw MatrixRequestException.InvalidParam("The event does not follow the room's newest event; this server does not accept forks yet.");
    }

    public Task ReceiveTypingAsync(string origin, string userId, bool typing)
    {
        if (!IsJoinedUserOf(origin, userId, out var snapshot)) return Task.CompletedTask;
        if (_typing.Set(userId, typing, RemoteTypingTimeoutMs)) NotifyTyping(snapshot);
        ScheduleTypingExpiry();
        return Task.CompletedTask;
    }

    public async Task ReceiveReceiptsAsync(string origin, IReadOnlyList<RemoteReceipt> receipts)
    {
        foreach (var receipt in receipts)
        {
            // Private receipts never leave their server; a thread id must be one this server's clients could give.
            if (receipt.ReceiptType != ReceiptTypes.Read || !IsJoinedUserOf(origin, receipt.UserId, out var snapshot)) continue;
            if (receipt.ThreadId is { } thread && thread != "main" && !Identifiers.EventId.IsValid(thread)) continue;
            foreach (var eventId in receipt.EventIds)
            {
                if (await StoredEventOfRoomAsync(eventId) is null) continue;
                var ts = Clock();
                var data = JsonOutput.Write(writer =>
                {
                    writer.WriteStartObject();
                    if (receipt.ThreadId is not null) writer.WriteString("thread_id", receipt.ThreadId);
                    writer.WriteNumber("ts", ts);
                    writer.WriteEndObject();
                });
                var position = await store.Receipts.SetReceiptAsync(
                    new NewReceipt(RoomId, ReceiptTypes.Read, receipt.UserId, eventId, ts, data, receipt.ThreadId), CancellationToken.None);
                _notifier.Notify(snapshot.JoinedMembers, new SyncNotice(SyncNoticeKind.Receipt, RoomId, position));
            }
        }
    }

    private bool IsJoinedUserOf(string origin, string userId, out RoomSnapshot snapshot)
    {
        snapshot = _writer.Current!;
        return UserId.TryParse(userId, out var user) && user.Server.ToString() == origin
               && snapshot is { Exists: true } && snapshot.IsJoined(userId);
    }

    private static Identifiers.EventId? EventIdOf(RoomVersion version, JsonObject pdu)
    {
        try
        {
            return EventHashing.ComputeEventId(version, pdu);
        }
        catch (Exception e) when (e is ArgumentException or CanonicalJsonException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}
