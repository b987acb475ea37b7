using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;
using HomeServer.Grains.Federation.Joins;
using HomeServer.Grains.Federation.Transactions;
using HomeServer.Grains.Identifiers;
using HomeServer.Grains.Rooms.Forks;
using HomeServer.Grains.Sync;
using HomeServer.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace HomeServer.Grains.Rooms;

/// <summary>
/// Events and EDUs another server sends in its transactions (<c>PUT /_matrix/federation/v1/send</c>). The room keeps one
/// newest event while it is linear (docs/adr/0006, 0034); events that fork it go through RoomGrain.Forks.cs
/// (docs/adr/0041). See docs/adr/0036-inbound-transactions.md.
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
        if (await IsReceivedAlreadyAsync(eventId)) return;

        if (await RecommendedByPolicyServerAsync(snapshot, await VerifiedAsync(version, eventId, pdu)) is not { } received) return;
        await FetchMissingPreviousEventsAsync(origin, version, received.Pdu); // RoomGrain.GapFill.cs
        try
        {
            await AppendReceivedAsync(origin, received);
        }
        catch (MatrixRequestException refused) when (refused.IsRejection())
        {
            await RememberRejectedAsync(received, refused); // see RoomGrain.Rejections.cs
            throw;
        }
    }

    /// <summary>Received before (a retried transaction, or the same event from two transactions): nothing to do.</summary>
    private async Task<bool> IsReceivedAlreadyAsync(Identifiers.EventId eventId)
    {
        var known = await store.Events.GetEventAsync(eventId.Value, CancellationToken.None);
        if (known is null)
        {
            await RefuseIfRejectedBeforeAsync(eventId);
            // A soft-failed event sent again is soft-failed already.
            var softFailed = await store.Forks.GetSoftFailedAsync(eventId.Value, CancellationToken.None);
            return softFailed is not null && (softFailed.RoomId == RoomId ? true : throw MatrixRequestException.InvalidParam("The event id names an event of another room."));
        }
        return known.RoomId == RoomId ? true : throw MatrixRequestException.InvalidParam("The event id names an event of another room.");
    }

    /// <summary>Signatures, then the content hash: the spec redacts an event whose hash does not match and goes on with the copy.</summary>
    private async Task<BuiltEvent> VerifiedAsync(RoomVersion version, Identifiers.EventId eventId, JsonObject pdu)
    {
        await VerifySignaturesAsync(version, pdu);
        if (!ReceivedJoinEvent.HasValidContentHash(version, pdu)) pdu = EventRedactor.Redact(version, pdu);
        var canonical = CanonicalJson.Encode(pdu, version.StrictCanonicalJson);
        return new BuiltEvent(eventId, canonical, Pdu.Parse(eventId, canonical));
    }

    /// <summary>
    /// Appends an event that passed the checks up to its auth events: on the linear path when it follows every
    /// forward extremity (the state before it is the current state), else as a fork (RoomGrain.Forks.cs).
    /// </summary>
    private async Task AppendReceivedAsync(string origin, BuiltEvent received)
    {
        var snapshot = _writer.Current!;
        var redacted = received.Pdu.Type == EventTypes.Redaction && RedactionAuthorizer.GetRedactedEventId(snapshot.Version, received.Pdu) is { } target
            ? await StoredEventOfRoomAsync(target.Value)
            : null;

        if (FollowsAllExtremities(snapshot, received.Pdu))
        {
            await AuthoriseByAuthEventsAsync(snapshot, received.Pdu);
            try
            {
                await _writer.SubmitAsync(builder =>
                {
                    if (builder.View.LastEventId == received.EventId) return received.EventId.Value; // The same event, appended by a concurrent request.
                    if (!builder.FollowsAllExtremities(received.Pdu)) throw new StaleForkException();
                    builder.AddReceived(received, redacted);
                    return received.EventId.Value;
                });
                return;
            }
            catch (StaleForkException)
            {
                // An event was appended meanwhile: this one now forks the room.
            }
        }
        await AcceptOnForkAsync(origin, received, redacted);
    }

    /// <summary>The ids of an event's previous events: plain ids from room version 3 on, <c>[id, hashes]</c> pairs before.</summary>
    private static List<string>? PrevEventIdsOf(RoomVersion version, JsonObject pdu)
    {
        if (pdu["prev_events"] is not JsonArray prevs) return null;
        var ids = new List<string>(prevs.Count);
        foreach (var prev in prevs)
        {
            var id = version.EventIdInEvent ? (prev as JsonArray)?[0] : prev;
            if (id is not JsonValue value || !value.TryGetValue<string>(out var text)) return null;
            ids.Add(text);
        }
        return ids;
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
               && snapshot is { Exists: true } && snapshot.IsJoined(userId) && ServerAcl.Allows(snapshot.State, origin);
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
