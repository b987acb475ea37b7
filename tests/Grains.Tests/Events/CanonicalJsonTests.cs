using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using HomeServer.Grains.Events;

namespace HomeServer.Grains.Tests.Events;

public class CanonicalJsonTests
{
    private static string Canonical(string json) => Encoding.UTF8.GetString(CanonicalJson.Encode(Encoding.UTF8.GetBytes(json)));

    // The examples from the spec appendix "Canonical JSON".
    [Theory]
    [InlineData("{}", "{}")]
    [InlineData("{\n    \"one\": 1,\n    \"two\": \"Two\"\n}", "{\"one\":1,\"two\":\"Two\"}")]
    [InlineData("{\n    \"b\": \"2\",\n    \"a\": \"1\"\n}", "{\"a\":\"1\",\"b\":\"2\"}")]
    [InlineData("{\"b\":\"2\",\"a\":\"1\"}", "{\"a\":\"1\",\"b\":\"2\"}")]
    [InlineData(
        """
        {
            "auth": {
                "success": true,
                "mxid": "@john.doe:example.com",
                "profile": {
                    "display_name": "John Doe",
                    "three_pids": [
                        { "medium": "email", "address": "john.doe@example.org" },
                        { "medium": "msisdn", "address": "123456789" }
                    ]
                }
            }
        }
        """,
        "{\"auth\":{\"mxid\":\"@john.doe:example.com\",\"profile\":{\"display_name\":\"John Doe\",\"three_pids\":[{\"address\":\"john.doe@example.org\",\"medium\":\"email\"},{\"address\":\"123456789\",\"medium\":\"msisdn\"}]},\"success\":true}}")]
    [InlineData("{\n    \"a\": \"日本語\"\n}", "{\"a\":\"日本語\"}")]
    [InlineData("{\n    \"本\": 2,\n    \"日\": 1\n}", "{\"日\":1,\"本\":2}")]
    [InlineData("{\n    \"a\": \"\\u65E5\"\n}", "{\"a\":\"日\"}")]
    [InlineData("{\n    \"a\": null\n}", "{\"a\":null}")]
    [InlineData("{\n    \"a\": -0,\n    \"b\": 1e10\n}", "{\"a\":0,\"b\":10000000000}")]
    public void Matches_the_spec_examples(string input, string expected) => Assert.Equal(expected, Canonical(input));

    [Fact]
    public void Writes_non_ascii_as_raw_utf8_bytes()
    {
        var bytes = CanonicalJson.Encode("{\"a\":\"\\u65e5\\u672c\\u8a9e\"}"u8);
        Assert.Equal("{\"a\":\"日本語\"}"u8.ToArray(), bytes);
        Assert.Equal("{\"a\":\"ሴ\"}", Canonical("{\"a\":\"\\u1234\"}"));
        Assert.Equal("{\"a\":\"😀\"}", Canonical("{\"a\":\"\\ud83d\\ude00\"}"));
    }

    [Theory]
    [InlineData("\"\\\"\"", "\"\\\"\"")]
    [InlineData("\"\\\\\"", "\"\\\\\"")]
    [InlineData("\"\\/\"", "\"/\"")]
    [InlineData("\"\\b\\f\\n\\r\\t\"", "\"\\b\\f\\n\\r\\t\"")]
    [InlineData("\"\\u0008\\u000C\\u000a\\u000D\\u0009\"", "\"\\b\\f\\n\\r\\t\"")]
    [InlineData("\"\\u0000\"", "\"\\u0000\"")]
    [InlineData("\"\\u000B\\u000E\\u001F\\u001b\"", "\"\\u000b\\u000e\\u001f\\u001b\"")]
    [InlineData("\"\\u007f\\u0080\\u2028\"", "\"\u007f\u0080\u2028\"")]
    [InlineData("\"\\u0041<>&'\"", "\"A<>&'\"")]
    public void Uses_the_shortest_escapes(string input, string expected) => Assert.Equal(expected, Canonical(input));

    [Fact]
    public void Escapes_every_control_character_and_nothing_else_in_ascii()
    {
        for (var c = 0; c < 0x80; c++)
        {
            var input = JsonSerializer.Serialize(((char)c).ToString());
            var output = Canonical(input);
            var expected = c switch
            {
                '"' => "\"\\\"\"",
                '\\' => "\"\\\\\"",
                '\b' => "\"\\b\"",
                '\f' => "\"\\f\"",
                '\n' => "\"\\n\"",
                '\r' => "\"\\r\"",
                '\t' => "\"\\t\"",
                < 0x20 => $"\"\\u00{c:x2}\"",
                _ => $"\"{(char)c}\"",
            };
            Assert.Equal(expected, output);
        }
    }

    [Fact]
    public void Sorts_keys_by_code_point_not_by_utf16_code_unit()
    {
        // U+E000 < U+1F600 by code point, but its UTF-16 unit 0xE000 > the surrogate 0xD83D.
        Assert.Equal("{\"\uE000\":1,\"😀\":2}", Canonical("{\"😀\":2,\"\uE000\":1}"));
    }

    [Fact]
    public void Key_order_equals_utf8_byte_order_for_assorted_keys()
    {
        string[] keys = ["b", "a", "", "aa", "A", "Z", "_", "é", "日", "本", "😀", "\uE000", "\uFFFD", "\u007f", "a\u0000", "ab"];
        var input = new JsonObject();
        for (var i = 0; i < keys.Length; i++)
            input[keys[i]] = i;
        using var document = JsonDocument.Parse(CanonicalJson.Encode(input));
        var actual = document.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        var expected = keys.OrderBy(k => Encoding.UTF8.GetBytes(k), Comparer<byte[]>.Create(CompareBytes)).ToList();
        Assert.Equal(expected, actual);
    }

    private static int CompareBytes(byte[] x, byte[] y)
    {
        for (var i = 0; i < Math.Min(x.Length, y.Length); i++)
        {
            if (x[i] != y[i])
                return x[i].CompareTo(y[i]);
        }
        return x.Length.CompareTo(y.Length);
    }

    [Fact]
    public void Removes_whitespace_and_keeps_array_order_while_sorting_nested_objects()
    {
        Assert.Equal(
            "[3,1,{\"a\":[true,false,null],\"b\":{\"c\":\"\",\"d\":[]}},\"x y\"]",
            Canonical(" [ 3 , 1 , { \"b\" : { \"d\" : [ ] , \"c\" : \"\" } , \"a\" : [ true , false , null ] } , \"x y\" ] "));
    }

    [Theory]
    [InlineData("9007199254740991", "9007199254740991")]
    [InlineData("-9007199254740991", "-9007199254740991")]
    [InlineData("0", "0")]
    [InlineData("-0", "0")]
    [InlineData("-0.0e7", "0")]
    [InlineData("0e-400", "0")]
    [InlineData("1e10", "10000000000")]
    [InlineData("1E+2", "100")]
    [InlineData("2.50e1", "25")]
    [InlineData("120e-1", "12")]
    [InlineData("3.0", "3")]
    [InlineData("-7.000", "-7")]
    [InlineData("9.007199254740991e15", "9007199254740991")]
    [InlineData("0.0009007199254740991e19", "9007199254740991")]
    public void Normalises_integral_numbers(string input, string expected) => Assert.Equal(expected, Canonical(input));

    [Theory]
    [InlineData("9007199254740992")]
    [InlineData("-9007199254740992")]
    [InlineData("18446744073709551616")]
    [InlineData("1e16")]
    [InlineData("1e400")]
    [InlineData("1.5")]
    [InlineData("-0.1")]
    [InlineData("1e-2")]
    [InlineData("12e-1")]
    [InlineData("1.0000000000000000000001")]
    public void Refuses_non_integers_and_out_of_range_integers(string input)
    {
        Assert.Throws<CanonicalJsonException>(() => Canonical(input));
        Assert.Throws<CanonicalJsonException>(() => Canonical($"{{\"nested\":[{input}]}}"));
    }

    [Fact]
    public void TryGetInteger_agrees_with_encoding()
    {
        Assert.True(CanonicalJson.TryGetInteger(JsonElement.Parse("1e2"), out var hundred));
        Assert.Equal(100, hundred);
        Assert.False(CanonicalJson.TryGetInteger(JsonElement.Parse("1.5"), out _));
        Assert.False(CanonicalJson.TryGetInteger(JsonElement.Parse("\"50\""), out _));
        Assert.False(CanonicalJson.TryGetInteger(JsonElement.Parse("9007199254740992"), out _));
    }

    [Fact]
    public void Refuses_duplicate_keys() =>
        Assert.Throws<CanonicalJsonException>(() => Canonical("{\"a\":1,\"b\":2,\"a\":1}"));

    [Fact]
    public void Refuses_unpaired_surrogates_in_values_and_keys()
    {
        Assert.Throws<CanonicalJsonException>(() => Canonical("{\"a\":\"\\ud800\"}"));
        Assert.Throws<CanonicalJsonException>(() => Canonical("{\"\\udc00\":1}"));
        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Encode(new JsonObject { ["a"] = "x" + '\ud800' }));
        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Encode(new JsonObject { ["" + '\udc00'] = 1 }));
        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Encode(JsonValue.Create('\ud800')));
    }

    [Fact]
    public void Refuses_invalid_json() =>
        Assert.Throws<CanonicalJsonException>(() => Canonical("{\"a\":1,}"));

    [Fact]
    public void Encodes_json_nodes_including_values_created_from_clr_numbers()
    {
        var node = new JsonObject
        {
            ["z"] = 1L,
            ["a"] = new JsonArray(2, "x", null, false),
            ["m"] = JsonValue.Create(4.0),
        };
        Assert.Equal("{\"a\":[2,\"x\",null,false],\"m\":4,\"z\":1}", Encoding.UTF8.GetString(CanonicalJson.Encode(node)));
        Assert.Equal("null", Encoding.UTF8.GetString(CanonicalJson.Encode((JsonNode?)null)));
        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Encode(new JsonObject { ["f"] = 0.5 }));
        Assert.Throws<CanonicalJsonException>(() => CanonicalJson.Encode(new JsonObject { ["f"] = double.NaN }));
    }

    [Fact]
    public void Output_is_stable_under_re_encoding()
    {
        var once = CanonicalJson.Encode("{\"b\":[1,{\"y\":\"\\u0001\",\"x\":\"é\"}],\"a\":1e3}"u8);
        Assert.Equal(once, CanonicalJson.Encode(once));
    }
}
