using System.Text;

namespace HomeServer.Server.Tests.Fuzz;

/// <summary>What a fuzzed request may name that really exists on the server, so that some requests get past the checks.</summary>
public sealed record FuzzTargets(string UserId, string DeviceId, string RoomId, string EventId, string ServerName);

/// <summary>
/// Seeded generator of malformed and adversarial request parts: path segments, query parameters and bodies. The same
/// seed gives the same sequence, so a failure reproduces with the seed the test prints.
/// </summary>
public sealed class HostileInput(int seed, FuzzTargets targets)
{
    private readonly Random _random = new(seed);
    private byte[][]? _rawBodies;

    public static readonly string[] Methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "PROPFIND"];

    // Field names from across the Client-Server API, so random objects often hit the fields an endpoint reads.
    private static readonly string[] FieldNames =
    [
        "type", "auth", "session", "identifier", "user", "medium", "address", "password", "new_password", "username",
        "device_id", "initial_device_display_name", "inhibit_login", "refresh_token", "logout_devices", "devices", "token",
        "display_name", "displayname", "avatar_url", "visibility", "room_alias_name", "name", "topic", "invite",
        "invite_3pid", "room_version", "creation_content", "initial_state", "preset", "is_direct",
        "power_level_content_override", "state_key", "content", "reason", "user_id", "typing", "timeout", "thread_id",
        "m.fully_read", "m.read", "m.read.private", "room_id", "limit", "since", "filter", "generic_search_term",
        "room_types", "include_all_networks", "third_party_instance_id", "body", "msgtype", "membership", "event_fields",
        "event_format", "presence", "room", "timeline", "state", "ephemeral", "account_data", "rooms", "not_rooms",
        "types", "not_types", "senders", "not_senders", "contains_url", "lazy_load_members", "include_leave", "nonce",
        "mac", "admin", "third_party_signed", "kind", "users", "events", "ban", "kick", "redact", "state_default",
    ];

    private static readonly string[] QueryNames =
    [
        "limit", "from", "to", "dir", "timeout", "since", "filter", "full_state", "set_presence", "access_token", "kind",
        "user_id", "server_name", "via", "ts", "include_leave", "not_membership", "membership", "at", "username",
        "token", "server", "fields", "",
    ];

    public int Next(int maxExclusive) => _random.Next(maxExclusive);

    public bool Chance(double probability) => _random.NextDouble() < probability;

    public T Pick<T>(IReadOnlyList<T> items) => items[_random.Next(items.Count)];

    /// <summary>A path parameter value, percent-escaped as it goes in the URL: sometimes valid for its name, mostly not.</summary>
    public string PathValue(string name)
    {
        if (Chance(0.35)) return Uri.EscapeDataString(ValidPathValue(name));
        return Pick(HostilePathValues());
    }

    private string ValidPathValue(string name) => name.ToLowerInvariant() switch
    {
        "roomid" or "roomidoralias" => targets.RoomId,
        "userid" => targets.UserId,
        "eventid" => targets.EventId,
        "deviceid" => targets.DeviceId,
        "eventtype" or "type" => Pick(["m.room.message", "m.room.name", "m.room.power_levels", "m.room.member", "m.fuzz"]),
        "statekey" => Pick(["", targets.UserId, "x"]),
        "txnid" => "t" + _random.Next(),
        "roomalias" => $"#fuzz{_random.Next(5)}:{targets.ServerName}",
        "filterid" => Pick(["0", "1", "999"]),
        "receipttype" => Pick(["m.read", "m.read.private", "m.fully_read"]),
        "kind" => Pick(["override", "underride", "sender", "room", "content"]),
        "ruleid" => Pick([".m.rule.master", ".m.rule.message"]),
        "field" => Pick(["displayname", "avatar_url", "m.tz"]),
        "membership" => Pick(["join", "invite", "leave", "ban", "kick", "unban", "forget"]),
        "siloid" or "silo" or "address" => "127.0.0.1:11111@1",
        _ => "x",
    };

    private string[] HostilePathValues() =>
    [
        "..", "%2E%2E", "a%2Fb", "%2F", "..%2F..%2F..%2Fetc%2Fpasswd", "%00", "a%00b", "%FF%FE", "%C0%AF", "%ED%A0%80",
        "%F0%9F%92%A9", "-1", "0", "99999999999999999999999", "9007199254740992", "1.5", "true", "null", "%7B%7D",
        "!", "!nocolon", "!%00:localhost", "!x:", "!x:bad%20host", "@", "@UPPER:localhost", "@x:localhost:99999999",
        "$", "$%00", "#", "#x", "#%00:localhost", "not_an_id", "%20", "%09", "%25", "%252F",
        "!" + new string('a', 300) + ":localhost", "@" + new string('b', 300) + ":localhost",
        "$" + new string('c', 300), new string('d', 4000), new string('e', 9000),
        Uri.EscapeDataString(targets.RoomId) + "%2F..",
        Uri.EscapeDataString(targets.RoomId.Replace(targets.ServerName, "other.example", StringComparison.Ordinal)),
        Uri.EscapeDataString(targets.UserId.Replace(targets.ServerName, "other.example", StringComparison.Ordinal)),
    ];

    /// <summary>Zero to four query parameters, escaped and joined, with a leading '?' when there are any.</summary>
    public string Query()
    {
        var count = Pick([0, 0, 1, 1, 2, 3, 4]);
        if (count == 0) return "";
        var parts = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var name = Pick(QueryNames);
            // Raw values go in as they are, to send what a client cannot build with an encoder.
            parts.Add(Chance(0.1) ? $"{name}={Pick(RawQueryValues)}" : $"{name}={Uri.EscapeDataString(QueryValue())}");
        }
        return "?" + string.Join('&', parts);
    }

    private static readonly string[] RawQueryValues = ["%FF", "%00", "%", "%zz", "a&&&b", "==", "%C0%80", "+"];

    private string QueryValue() => Pick<Func<string>>(
    [
        () => Pick(["-1", "0", "abc", "1e3", "1.5", "-0", "", " ", "9007199254740992", "-9007199254740993",
            "99999999999999999999999999", "2147483648", "NaN", "Infinity", "0x10", "true", "null"]),
        () => Pick(["s99999999999_0_0_0.0", "s-1_-1_-1_-1.-1", "t1-2", "garbage", "s", "s_", "s1_2_3", "!x:y", "\0",
            "b", "f", "forward", "backwards", "join", "m.read"]),
        () => Pick(["999999999999", "300001", "-5", "1" + new string('0', 40)]),
        () => Pick(["{", "{}", "[]", "\"x\"", "{\"room\":{\"timeline\":{\"limit\":-1}}}", "{\"room\":{\"rooms\":5}}",
            "{\"limit\":1.5}", "{\"types\":[1,2]}", "{\"event_fields\":[\"" + new string('x', 500) + "\"]}",
            new string('[', 2000) + new string(']', 2000), "{\"room\":{\"timeline\":{\"limit\":9007199254740993}}}"]),
        () => new string('q', Pick([256, 1000, 3000])),
        () => RandomText(Next(20)),
    ])();

    /// <summary>A request body: raw hostile bytes, a random object of known field names with wrong values, or nothing.</summary>
    public (byte[]? Body, string? ContentType) Body()
    {
        var contentType = Pick<string?>(["application/json", "application/json", "application/json", "text/plain", null,
            "application/json; charset=latin1", "multipart/form-data"]);
        var roll = Next(10);
        byte[]? body = roll switch
        {
            0 => null,
            <= 3 => Pick(_rawBodies ??= RawBodies()),
            _ => Encoding.UTF8.GetBytes(RandomObject(depth: 0)),
        };
        return (body, contentType);
    }

    private byte[][] RawBodies() =>
    [
        [], "{"u8.ToArray(), "[]"u8.ToArray(), "null"u8.ToArray(), "\"s\""u8.ToArray(), "123"u8.ToArray(),
        "{}"u8.ToArray(), "{\"a\":}"u8.ToArray(), "{} x"u8.ToArray(), "/* c */ {}"u8.ToArray(), "{\"a\":1,\"a\":2}"u8.ToArray(),
        [0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0xFE, 0x22, 0x7D], // invalid UTF-8 inside a string
        [0xEF, 0xBB, 0xBF, 0x7B, 0x7D], // BOM then {}
        "{\"a\":\"\0\"}"u8.ToArray(), "{\"a\":\"\\u0000\"}"u8.ToArray(), "{\"a\":\"\\ud800\"}"u8.ToArray(),
        "{\"\\u0000\":1}"u8.ToArray(), "{\"a\":1e400}"u8.ToArray(), "{\"a\":NaN}"u8.ToArray(),
        Encoding.UTF8.GetBytes(new string('[', 100) + new string(']', 100)),
        Encoding.UTF8.GetBytes(new string('[', 100_000)),
        Encoding.UTF8.GetBytes(Nested(65)), Encoding.UTF8.GetBytes(Nested(1000)),
        Encoding.UTF8.GetBytes("{\"body\":\"" + new string('x', 100_000) + "\",\"msgtype\":\"m.text\"}"),
        Encoding.UTF8.GetBytes("{\"invite\":[" + string.Join(',', Enumerable.Repeat("\"@a:b\"", 20_000)) + "]}"),
        Encoding.UTF8.GetBytes("{\"a\":\"" + new string('y', 2 * 1024 * 1024) + "\"}"),
        Encoding.UTF8.GetBytes("{\"" + new string('k', 70_000) + "\":1}"),
    ];

    private static string Nested(int depth) => string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);

    private string RandomObject(int depth)
    {
        var fields = Next(depth == 0 ? 6 : 3) + (depth == 0 ? 1 : 0);
        var parts = new List<string>();
        for (var i = 0; i < fields; i++)
            parts.Add($"{JsonString(Chance(0.9) ? Pick(FieldNames) : RandomText(Next(8)))}:{RandomValue(depth + 1)}");
        return "{" + string.Join(',', parts) + "}";
    }

    private string RandomValue(int depth)
    {
        if (depth > 3) return Pick(["1", "\"x\"", "null"]);
        return Next(14) switch
        {
            0 => "null",
            1 => Pick(["true", "false"]),
            2 => Pick(["0", "-1", "1", "9007199254740991", "9007199254740992", "-9007199254740992", "18446744073709551616",
                "1" + new string('0', 400), "1.5", "-0.0", "1e308", "1e-400", "2147483648"]),
            3 => JsonString(Pick([targets.UserId, targets.RoomId, targets.EventId, targets.DeviceId, "m.login.password",
                "m.id.user", "m.login.dummy", "m.room.message", "m.text", "public", "private", "public_chat", "join",
                "@x:" + targets.ServerName, "!x:" + targets.ServerName, "$x", "#x:" + targets.ServerName, "10", "11", "1"])),
            4 => JsonString(RandomText(Next(40))),
            5 => JsonString(new string('z', Pick([255, 256, 1000, 70_000]))),
            6 => Pick(["\"\\u0000\"", "\"\\ud800\"", "\"a\\u0000b\"", "\"\\udfff\\ud800\""]),
            7 => "[" + string.Join(',', Enumerable.Range(0, Next(4)).Select(_ => RandomValue(depth + 1))) + "]",
            // Long arrays repeat a short scalar, so a body stays within a few hundred KiB.
            8 => "[" + string.Join(',', Enumerable.Repeat(Pick(["1", "\"@a:b\"", "null", "{}", "\"m.room.message\""]), Pick([100, 1000, 5000]))) + "]",
            9 => Nested(Pick([10, 63, 64, 65, 200])),
            _ => RandomObject(depth),
        };
    }

    private string RandomText(int length)
    {
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            builder.Append(Next(6) switch
            {
                0 => (char)Next(0x20),
                1 => (char)(0x20 + Next(0x5F)),
                2 => (char)(0xA0 + Next(0x2000)),
                3 => Pick(['/', '.', '%', ':', '@', '!', '$', '#', '\\', '"']),
                _ => (char)('a' + Next(26)),
            });
        }
        return builder.ToString();
    }

    private static string JsonString(string value) => System.Text.Json.JsonSerializer.Serialize(value);

    /// <summary>How the request is authenticated: no token, a garbage one, a well-formed unknown one, or the real one.</summary>
    public enum AuthKind { None, Garbage, UnknownToken, Valid }

    public (string? Header, string? QueryToken) Auth(AuthKind kind, string validToken) => kind switch
    {
        AuthKind.None => (null, null),
        AuthKind.Garbage => Pick<(string?, string?)>(
        [
            ("Bearer", null), ("Bearer ", null), ("Basic YTpi", null), ("Bearer " + new string('t', 5000), null),
            ("Bearer mat_", null), ("Bearer \t", null), ("bearer x y z", null), (null, ""), (null, "%00"), (null, "mat_%FF_"),
            ("Bearer mat_QA_" + new string('A', 43), null), ("Bearer " + validToken + "x", null),
        ]),
        AuthKind.UnknownToken => Pick<(string?, string?)>(
        [
            ("Bearer " + Grains.Accounts.AccessTokens.Create(targets.UserId), null),
            ("Bearer " + Grains.Accounts.AccessTokens.Create("@nobody:" + targets.ServerName), null),
            ("Bearer " + Grains.Accounts.AccessTokens.Create("@\0:" + targets.ServerName), null),
            ("Bearer " + Grains.Accounts.AccessTokens.Create("@" + new string('u', 700)), null),
            (null, Uri.EscapeDataString(Grains.Accounts.AccessTokens.Create("@x:other.example"))),
        ]),
        _ => Chance(0.8) ? ("Bearer " + validToken, null) : (null, Uri.EscapeDataString(validToken)),
    };
}
