using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace HomeServer.Server.Tests.Federation;

/// <summary>
/// Stands in for a destination's <c>PUT /_matrix/federation/v1/send/{txnId}</c>: installed as middleware on a server of
/// the test network (ahead of any endpoint of its own), it records every transaction request as it came (request target,
/// <c>Authorization</c> header, body) and answers 200, 500, or not at all (the connection is dropped), as the test sets.
/// </summary>
public sealed class TransactionRecorder
{
    public const string SendPathPrefix = "/_matrix/federation/v1/send/";

    private readonly object _gate = new();
    private readonly List<RecordedTransaction> _requests = [];
    private volatile RecorderAnswer _answer = RecorderAnswer.Accept;

    public RecorderAnswer Answer
    {
        get => _answer;
        set => _answer = value;
    }

    /// <summary>Every transaction request received, in order, with how it was answered.</summary>
    public IReadOnlyList<RecordedTransaction> Requests
    {
        get
        {
            lock (_gate) return [.. _requests];
        }
    }

    /// <summary>The transactions answered with 200, in order.</summary>
    public IReadOnlyList<RecordedTransaction> Accepted => Requests.Where(r => r.Answer == RecorderAnswer.Accept).ToList();

    public void Install(WebApplication app) => app.Use(async (context, next) =>
    {
        if (!HttpMethods.IsPut(context.Request.Method) || !context.Request.Path.StartsWithSegments("/_matrix/federation/v1/send", out var rest)
            || !rest.HasValue)
        {
            await next(context);
            return;
        }
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer);
        var answer = _answer;
        var recorded = new RecordedTransaction(
            Uri.UnescapeDataString(rest.Value!.TrimStart('/')),
            context.Features.Get<IHttpRequestFeature>()!.RawTarget,
            context.Request.Headers.Authorization.ToString(),
            buffer.ToArray(),
            answer);
        lock (_gate) _requests.Add(recorded);
        switch (answer)
        {
            case RecorderAnswer.Accept:
                // The spec's answer: a result per PDU, an empty object for each one processed.
                var pdus = new JsonObject();
                foreach (var pdu in recorded.Pdus) pdus[pdu["event_id"]?.GetValue<string>() ?? $"#{pdus.Count}"] = new JsonObject();
                await Results.Json(new JsonObject { ["pdus"] = pdus }).ExecuteAsync(context);
                break;
            case RecorderAnswer.Fail:
                await Results.Json(new { errcode = "M_UNKNOWN", error = "failing on purpose" }, statusCode: 500).ExecuteAsync(context);
                break;
            default:
                context.Abort();
                break;
        }
    });
}

public enum RecorderAnswer
{
    Accept,
    Fail,
    Down,
}

public sealed record RecordedTransaction(string TransactionId, string RawTarget, string Authorization, byte[] Body, RecorderAnswer Answer)
{
    public JsonObject Json => JsonNode.Parse(Body)!.AsObject();

    public IReadOnlyList<JsonObject> Pdus => Json["pdus"]!.AsArray().Select(p => p!.AsObject()).ToList();
}
