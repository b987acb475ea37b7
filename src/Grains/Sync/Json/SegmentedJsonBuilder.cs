using System.Buffers;
using System.Text.Json;

namespace HomeServer.Grains.Sync.Json;

/// <summary>
/// Collects a response body as segments: what the JSON writer writes goes to a per-response buffer, and a shared array
/// (a room's cached state) is appended by reference between two pieces of it, never copied.
/// </summary>
internal sealed class SegmentedJsonBuilder(int initialCapacity)
{
    private readonly ArrayBufferWriter<byte> _pending = new(initialCapacity);
    private readonly List<byte[]> _segments = [];

    /// <summary>Where the JSON writer writes.</summary>
    public IBufferWriter<byte> Output => _pending;

    /// <summary>
    /// Appends <paramref name="shared"/> after what <paramref name="writer"/> wrote so far. The writer does not see the
    /// shared bytes: they must complete what it wrote (the values of an array it has just opened, say).
    /// </summary>
    public void AppendShared(Utf8JsonWriter writer, byte[] shared)
    {
        writer.Flush();
        CutPending();
        if (shared.Length > 0) _segments.Add(shared);
    }

    public SegmentedJson Build(Utf8JsonWriter writer)
    {
        writer.Flush();
        CutPending();
        return new SegmentedJson(_segments);
    }

    private void CutPending()
    {
        if (_pending.WrittenCount == 0) return;
        _segments.Add(_pending.WrittenSpan.ToArray());
        _pending.ResetWrittenCount();
    }
}
