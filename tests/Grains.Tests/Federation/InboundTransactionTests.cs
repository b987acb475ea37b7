using System.Text;
using System.Text.Json.Nodes;
using HomeServer.Grains;
using HomeServer.Grains.Federation.Transactions;

namespace HomeServer.Grains.Tests.Federation;

public class InboundTransactionTests
{
    private static byte[] Body(JsonArray pdus, JsonArray? edus = null)
    {
        var body = new JsonObject { ["origin"] = "a.example", ["origin_server_ts"] = 1, ["pdus"] = pdus };
        if (edus is not null) body["edus"] = edus;
        return Encoding.UTF8.GetBytes(body.ToJsonString());
    }

    private static JsonArray Many(int count, Func<JsonNode> item) => new(Enumerable.Range(0, count).Select(_ => item()).ToArray());

    [Fact]
    public void Fifty_pdus_and_a_hundred_edus_are_accepted_one_more_of_either_is_refused()
    {
        var edu = () => (JsonNode)new JsonObject { ["edu_type"] = "m.presence", ["content"] = new JsonObject() };
        Assert.Equal(50, InboundTransaction.Parse(Body(Many(50, () => new JsonObject()), Many(100, edu))).Pdus.Count);

        Assert.Equal("M_BAD_JSON", Assert.Throws<MatrixRequestException>(() => InboundTransaction.Parse(Body(Many(51, () => new JsonObject())))).ErrCode);
        Assert.Equal("M_BAD_JSON", Assert.Throws<MatrixRequestException>(() => InboundTransaction.Parse(Body([], Many(101, edu)))).ErrCode);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("{\"origin\": \"a.example\"}")]
    [InlineData("{\"pdus\": {}}")]
    [InlineData("{\"pdus\": [], \"edus\": {}}")]
    [InlineData("{\"pdus\": [")]
    public void A_body_that_is_not_a_transaction_is_refused(string body) =>
        Assert.Equal("M_BAD_JSON", Assert.Throws<MatrixRequestException>(() => InboundTransaction.Parse(Encoding.UTF8.GetBytes(body))).ErrCode);

    [Fact]
    public void Each_pdu_keeps_its_json_and_the_room_it_names()
    {
        var pdus = new JsonArray(new JsonObject { ["room_id"] = "!r:b.example", ["type"] = "m.room.message" }, new JsonObject { ["type"] = "x" }, "not an object");

        var parsed = InboundTransaction.Parse(Body(pdus)).Pdus;

        Assert.Equal(["!r:b.example", null, null], parsed.Select(p => p.RoomId));
        Assert.Equal("m.room.message", JsonNode.Parse(parsed[0].Json)!["type"]!.GetValue<string>());
    }

    [Fact]
    public void Typing_and_receipt_edus_are_read_and_other_or_malformed_edus_are_skipped()
    {
        var edus = new JsonArray(
            new JsonObject { ["edu_type"] = "m.typing", ["content"] = new JsonObject { ["room_id"] = "!r:b.example", ["user_id"] = "@u:a.example", ["typing"] = true } },
            new JsonObject { ["edu_type"] = "m.typing", ["content"] = new JsonObject { ["room_id"] = "!r:b.example", ["user_id"] = "@u:a.example", ["typing"] = "yes" } },
            new JsonObject { ["edu_type"] = "m.device_list_update", ["content"] = new JsonObject() },
            new JsonObject { ["edu_type"] = "m.receipt" },
            new JsonObject
            {
                ["edu_type"] = "m.receipt",
                ["content"] = new JsonObject
                {
                    ["!r:b.example"] = new JsonObject
                    {
                        ["m.read"] = new JsonObject
                        {
                            ["@u:a.example"] = new JsonObject { ["event_ids"] = new JsonArray("$e"), ["data"] = new JsonObject { ["thread_id"] = "main" } },
                            ["@v:a.example"] = new JsonObject { ["data"] = new JsonObject() },
                        },
                    },
                    ["not a room"] = new JsonObject(),
                },
            });

        var parsed = InboundTransaction.Parse(Body([], edus));

        var typing = Assert.Single(parsed.Typing);
        Assert.Equal(("!r:b.example", "@u:a.example", true), (typing.RoomId, typing.UserId, typing.Typing));
        var (roomId, receipts) = Assert.Single(parsed.Receipts);
        Assert.Equal("!r:b.example", roomId);
        var receipt = Assert.Single(receipts);
        Assert.Equal(("@u:a.example", "m.read", "main"), (receipt.UserId, receipt.ReceiptType, receipt.ThreadId));
        Assert.Equal(["$e"], receipt.EventIds);
    }
}
