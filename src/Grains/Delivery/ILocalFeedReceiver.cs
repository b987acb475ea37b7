using HomeServer.Grains.Sync;

namespace HomeServer.Grains.Delivery;

/// <summary>
/// A sync grain as its silo's room feed hub reaches it: the hub hands each batch and notice to the object directly, on the
/// hub's thread and outside the grain's turns, so one message per silo reaches every local reader without a grain call
/// per reader (docs/adr/0008, 0011). Implementations must therefore be thread-safe and quick: record, wake, return.
/// </summary>
public interface ILocalFeedReceiver
{
    void Receive(RoomFeedEvents events);

    void Notify(SyncNotice notice);
}
