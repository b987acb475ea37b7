namespace HomeServer.Grains.Federation.Signing;

/// <summary>The spec's unpadded base64: the standard alphabet without trailing '='; decoding also takes padded input.</summary>
public static class UnpaddedBase64
{
    public static string Encode(ReadOnlySpan<byte> bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    public static bool TryDecode(string? text, out byte[] bytes)
    {
        bytes = [];
        if (text is null || text.Length % 4 == 1) return false;
        var padded = text.Length % 4 == 0 ? text : text + new string('=', 4 - text.Length % 4);
        var buffer = new byte[padded.Length / 4 * 3];
        if (!Convert.TryFromBase64String(padded, buffer, out var written)) return false;
        bytes = buffer[..written];
        return true;
    }
}
