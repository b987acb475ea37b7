using System.Globalization;

namespace HomeServer.Grains.Sync;

/// <summary>
/// Global positions above a token's event position that the client already has: events delivered from the rooms'
/// shared fragments before the store was read up to them. Ascending, all above the token's position. Carried in the
/// token itself (see docs/adr/0008-shared-delta-fan-out.md), so it means the same to every activation.
/// </summary>
public sealed class DeliveredEvents : IEquatable<DeliveredEvents>
{
    /// <summary>The most positions a token carries; beyond it the response is read from the store, which empties the set.</summary>
    public const int MaxCount = 50;

    private readonly long[] _positions;

    private DeliveredEvents(long[] positions) => _positions = positions;

    public static DeliveredEvents None { get; } = new([]);

    public int Count => _positions.Length;

    public IReadOnlyList<long> Positions => _positions;

    public bool Contains(long position) => Array.BinarySearch(_positions, position) >= 0;

    /// <summary>The positions above <paramref name="position"/> (what stays undelivered by a store read up to it).</summary>
    public DeliveredEvents Above(long position)
    {
        var first = Array.FindIndex(_positions, p => p > position);
        return first < 0 ? None : first == 0 ? this : new DeliveredEvents(_positions[first..]);
    }

    public DeliveredEvents With(IEnumerable<long> positions)
    {
        var all = _positions.Concat(positions).Distinct().Order().ToArray();
        return all.Length == 0 ? None : new DeliveredEvents(all);
    }

    /// <summary>The positions as increasing steps from <paramref name="basePosition"/>, dot-separated (<c>3.1.7</c>).</summary>
    public string Format(long basePosition)
    {
        var steps = new string[_positions.Length];
        var previous = basePosition;
        for (var i = 0; i < _positions.Length; i++)
        {
            steps[i] = (_positions[i] - previous).ToString(CultureInfo.InvariantCulture);
            previous = _positions[i];
        }
        return string.Join('.', steps);
    }

    /// <summary>Parses <see cref="Format"/>; null unless every step is a positive number without leading zeros and there are at most <see cref="MaxCount"/>.</summary>
    public static DeliveredEvents? Parse(string text, long basePosition)
    {
        var steps = text.Split('.');
        if (steps.Length > MaxCount) return null;
        var positions = new long[steps.Length];
        var previous = basePosition;
        for (var i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            if (step.Length is 0 or > 18 || step[0] is < '1' or > '9' || !step.All(char.IsAsciiDigit)) return null;
            previous += long.Parse(step, NumberStyles.None, CultureInfo.InvariantCulture);
            positions[i] = previous;
        }
        return new DeliveredEvents(positions);
    }

    public bool Equals(DeliveredEvents? other) => other is not null && _positions.AsSpan().SequenceEqual(other._positions);

    public override bool Equals(object? obj) => Equals(obj as DeliveredEvents);

    public override int GetHashCode() => _positions.Length == 0 ? 0 : HashCode.Combine(_positions.Length, _positions[0], _positions[^1]);
}
