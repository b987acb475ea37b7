using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace HomeServer.Server.Tests.Push;

/// <summary>
/// A push gateway on 127.0.0.1 for the tests: records every POST /_matrix/push/v1/notify body and answers what
/// <see cref="Respond"/> says for the n-th request (1-based): a status and a body, or hanging until disposed.
/// </summary>
public sealed class LocalPushGateway : IAsyncDisposable
{
    public const string NotifyPath = "/_matrix/push/v1/notify";

    private readonly WebApplication _app;
    private readonly Channel<JsonElement> _received = Channel.CreateUnbounded<JsonElement>();
    private readonly CancellationTokenSource _stopping = new();
    private int _requests;

    /// <summary>The answer to the n-th request: (status, JSON body), or null to never answer.</summary>
    public Func<int, (int Status, string Body)?> Respond { get; set; } = _ => (200, "{\"rejected\":[]}");

    public int Requests => Volatile.Read(ref _requests);

    private LocalPushGateway(WebApplication app) => _app = app;

    public string Url => _app.Urls.Single() + NotifyPath;

    public static async Task<LocalPushGateway> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var gateway = new LocalPushGateway(builder.Build());
        gateway._app.MapPost(NotifyPath, gateway.HandleAsync);
        await gateway._app.StartAsync();
        return gateway;
    }

    private async Task HandleAsync(HttpContext context)
    {
        var body = await JsonDocument.ParseAsync(context.Request.Body);
        var n = Interlocked.Increment(ref _requests);
        _received.Writer.TryWrite(body.RootElement.Clone());
        if (Respond(n) is not { } answer)
        {
            await Task.Delay(Timeout.Infinite, _stopping.Token).ContinueWith(_ => { });
            return;
        }
        context.Response.StatusCode = answer.Status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(answer.Body);
    }

    /// <summary>The next body received, or a failure after <paramref name="timeout"/>.</summary>
    public async Task<JsonElement> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        return await _received.Reader.ReadAsync(cts.Token);
    }

    /// <summary>Whether a body arrives within <paramref name="wait"/>.</summary>
    public async Task<bool> ReceivesWithinAsync(TimeSpan wait)
    {
        try
        {
            await NextAsync(wait);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
