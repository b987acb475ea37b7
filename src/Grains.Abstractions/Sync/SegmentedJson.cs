using Orleans;
using Orleans.Concurrency;

namespace HomeServer.Grains.Sync;

/// <summary>
/// A JSON body as byte segments written one after the other (docs/adr/0027-streamed-initial-syncs.md). A segment may
/// be an array shared by many responses, such as a room's cached state section: nobody writes to a segment. Within a
/// silo the segments travel by reference; a call from another process gets copies.
/// </summary>
[GenerateSerializer, Immutable, Alias("hs.SegmentedJson")]
public sealed record SegmentedJson(IReadOnlyList<byte[]> Segments)
{
    /// <summary>The body's length in bytes.</summary>
    public long Length
    {
        get
        {
            long length = 0;
            foreach (var segment in Segments) length += segment.Length;
            return length;
        }
    }

    public static SegmentedJson Of(byte[] json) => new([json]);

    /// <summary>The body as one array: a copy, for callers that parse it (legacy endpoints, tests).</summary>
    public byte[] ToArray()
    {
        var whole = new byte[Length];
        var offset = 0;
        foreach (var segment in Segments)
        {
            segment.CopyTo(whole, offset);
            offset += segment.Length;
        }
        return whole;
    }
}
