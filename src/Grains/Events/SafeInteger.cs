namespace HomeServer.Grains.Events;

/// <summary>
/// Reads a JSON number token as an exact integer in canonical JSON's range. Integral values written
/// with exponent, fraction or negative zero (<c>1e10</c>, <c>2.0</c>, <c>-0</c>) are accepted, as in
/// the spec's canonical JSON examples; any non-integral value is refused.
/// </summary>
internal static class SafeInteger
{
    public const long Max = (1L << 53) - 1;
    private const int MaxDigits = 16; // Max has 16 decimal digits.

    public static bool TryParse(ReadOnlySpan<char> number, out long value)
    {
        value = 0;
        var negative = number.Length > 0 && number[0] == '-';
        if (negative)
            number = number[1..];

        var expAt = number.IndexOfAny('e', 'E');
        var mantissa = expAt < 0 ? number : number[..expAt];
        long exponent = 0;
        if (expAt >= 0 && !TryParseExponent(number[(expAt + 1)..], out exponent))
            return false;

        var dot = mantissa.IndexOf('.');
        var integerPart = dot < 0 ? mantissa : mantissa[..dot];
        var fractionPart = dot < 0 ? [] : mantissa[(dot + 1)..];
        if (integerPart.IsEmpty || !IsDigits(integerPart) || !IsDigits(fractionPart) || (dot >= 0 && fractionPart.IsEmpty))
            return false;

        Span<char> digits = stackalloc char[integerPart.Length + fractionPart.Length];
        integerPart.CopyTo(digits);
        fractionPart.CopyTo(digits[integerPart.Length..]);
        long scale = exponent - fractionPart.Length;

        ReadOnlySpan<char> significant = digits.TrimStart('0');
        if (significant.IsEmpty)
            return true; // zero, however written
        var trimmed = significant.TrimEnd('0');
        scale += significant.Length - trimmed.Length;
        if (scale < 0)
            return false; // has a fractional part
        if (trimmed.Length + scale > MaxDigits)
            return false;

        long magnitude = 0;
        foreach (var c in trimmed)
            magnitude = magnitude * 10 + (c - '0');
        for (var i = 0; i < scale; i++)
            magnitude *= 10;
        if (magnitude > Max)
            return false;
        value = negative ? -magnitude : magnitude;
        return true;
    }

    // Huge exponents are clamped: they only ever decide between "zero", "too large" and "fraction".
    private static bool TryParseExponent(ReadOnlySpan<char> text, out long exponent)
    {
        exponent = 0;
        var sign = 1;
        if (!text.IsEmpty && text[0] is '+' or '-')
        {
            sign = text[0] == '-' ? -1 : 1;
            text = text[1..];
        }
        if (text.IsEmpty || !IsDigits(text))
            return false;
        foreach (var c in text)
            exponent = Math.Min(exponent * 10 + (c - '0'), 1_000_000);
        exponent *= sign;
        return true;
    }

    private static bool IsDigits(ReadOnlySpan<char> text) => !text.ContainsAnyExceptInRange('0', '9');
}
