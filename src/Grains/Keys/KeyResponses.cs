using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using HomeServer.Storage;

namespace HomeServer.Grains.Keys;

/// <summary>The JSON bodies of the /keys responses.</summary>
internal static class KeyResponses
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Synapse always lists signed_curve25519, 0 when none is left, and clients rely on it to top up their keys; the
    /// spec only says a missing algorithm counts as 0, so listing it is harmless.
    /// </summary>
    public static Dictionary<string, int> WithSignedCurve25519(IReadOnlyDictionary<string, int> counts)
    {
        var result = new Dictionary<string, int>(counts, StringComparer.Ordinal);
        result.TryAdd("signed_curve25519", 0);
        return result;
    }

    public static byte[] UploadResponse(IReadOnlyDictionary<string, int> counts) => Write(writer =>
    {
        writer.WriteStartObject();
        writer.WritePropertyName("one_time_key_counts"u8);
        WriteCounts(writer, WithSignedCurve25519(counts));
        writer.WriteEndObject();
    });

    public static void WriteCounts(Utf8JsonWriter writer, IReadOnlyDictionary<string, int> counts)
    {
        writer.WriteStartObject();
        foreach (var (algorithm, count) in counts.OrderBy(c => c.Key, StringComparer.Ordinal)) writer.WriteNumber(algorithm, count);
        writer.WriteEndObject();
    }

    /// <summary>
    /// A stored key object (device keys or a cross-signing key) with the signatures added later merged into its own
    /// <c>signatures</c>, and for devices the <c>unsigned</c> object the spec adds on /keys/query.
    /// </summary>
    public static void WriteKey(
        Utf8JsonWriter writer, string storedJson, IEnumerable<KeySignature> extraSignatures, string? displayName, bool withUnsigned)
    {
        var key = KeyJson.Parse(storedJson);
        var signatures = new SortedDictionary<string, SortedDictionary<string, string>>(StringComparer.Ordinal);
        if (key.TryGetProperty("signatures", out var own) && own.ValueKind == JsonValueKind.Object)
        {
            foreach (var byUser in own.EnumerateObject())
            {
                var entries = signatures[byUser.Name] = new SortedDictionary<string, string>(StringComparer.Ordinal);
                foreach (var signature in byUser.Value.EnumerateObject()) entries[signature.Name] = signature.Value.GetString()!;
            }
        }
        foreach (var extra in extraSignatures)
        {
            if (!signatures.TryGetValue(extra.SignerUserId, out var entries))
                entries = signatures[extra.SignerUserId] = new SortedDictionary<string, string>(StringComparer.Ordinal);
            entries[extra.SignerKeyId] = extra.Signature;
        }
        writer.WriteStartObject();
        foreach (var property in key.EnumerateObject())
        {
            if (property.Name is "signatures" or "unsigned") continue;
            property.WriteTo(writer);
        }
        if (signatures.Count > 0 || key.TryGetProperty("signatures", out _))
        {
            writer.WritePropertyName("signatures"u8);
            writer.WriteStartObject();
            foreach (var (user, entries) in signatures)
            {
                writer.WritePropertyName(user);
                writer.WriteStartObject();
                foreach (var (name, value) in entries) writer.WriteString(name, value);
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        if (withUnsigned)
        {
            writer.WritePropertyName("unsigned"u8);
            writer.WriteStartObject();
            if (displayName is not null) writer.WriteString("device_display_name"u8, displayName);
            writer.WriteEndObject();
        }
        writer.WriteEndObject();
    }

    public static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            write(writer);
        }
        return buffer.WrittenSpan.ToArray();
    }
}
