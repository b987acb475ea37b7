namespace HomeServer.Grains.Rooms;

/// <summary>
/// A refusal of a received event by the authorization rules — the spec's rejection, as opposed to a refusal for its
/// format, its signatures or a missing auth event. The room keeps such an event as rejected (docs/adr/0047).
/// </summary>
internal static class EventRejection
{
    private const string Flag = "hs.rejected";

    public static MatrixRequestException Of(string reason)
    {
        var refused = MatrixRequestException.Forbidden(reason);
        refused.Data[Flag] = true;
        return refused;
    }

    public static bool IsRejection(this MatrixRequestException refused) => refused.Data.Contains(Flag);
}
