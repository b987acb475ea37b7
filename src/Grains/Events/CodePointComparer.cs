namespace HomeServer.Grains.Events;

/// <summary>
/// Orders strings by Unicode code point, as canonical JSON requires for object keys. Ordinal
/// comparison of UTF-16 code units differs for characters above U+FFFF versus U+E000..U+FFFF.
/// </summary>
internal sealed class CodePointComparer : IComparer<string>
{
    public static readonly CodePointComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
            return 0;
        if (x is null)
            return -1;
        if (y is null)
            return 1;
        var length = Math.Min(x.Length, y.Length);
        for (var i = 0; i < length; i++)
        {
            if (x[i] != y[i])
                return FixUp(x[i]) - FixUp(y[i]);
        }
        return x.Length - y.Length;
    }

    // At the first differing unit, surrogates (U+D800..U+DFFF, i.e. code points above U+FFFF) must
    // sort after U+E000..U+FFFF: shift surrogates up and that range down so unit order = code point order.
    private static int FixUp(char c) => c switch
    {
        >= '\uE000' => c - 0x800,
        >= '\uD800' => c + 0x2000,
        _ => c,
    };
}
