using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SkiaSharp;

namespace HomeServer.Server.Tests.Media;

/// <summary>A small web site on 127.0.0.1 whose pages the URL preview tests ask the server to preview.</summary>
public sealed class PreviewSite : IAsyncDisposable
{
    public static readonly byte[] Image = TestImages.Banded(64, 48, 10, SKEncodedImageFormat.Png);

    private readonly WebApplication _app;

    private PreviewSite(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public int Port => BaseAddress.Port;

    public string Url(string path) => new Uri(BaseAddress, path).ToString();

    public static async Task<PreviewSite> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/article", () => Results.Content(
            """
            <!doctype html><html><head><title>Plain title</title>
            <meta property="og:title" content="Matrix Blog Post">
            <meta property="og:description" content="This is a really cool blog post">
            <meta property="og:image" content="/image.png">
            <meta property="og:image:width" content="9999">
            </head><body>Hello</body></html>
            """, "text/html; charset=utf-8"));
        app.MapGet("/plain", () => Results.Content(
            "<html><head><title>Only a title</title><meta name=\"description\" content=\"Described\"></head><body></body></html>", "text/html"));
        app.MapGet("/private-image", () => Results.Content(
            "<html><head><meta property=\"og:title\" content=\"Inside\"><meta property=\"og:image\" content=\"http://10.0.0.1/secret.png\"></head></html>",
            "text/html"));
        app.MapGet("/image.png", () => Results.Bytes(Image, "image/png"));
        app.MapGet("/to-private", () => Results.Redirect("http://10.255.255.1/internal"));
        app.MapGet("/to-article", () => Results.Redirect("/article"));
        app.MapGet("/slow", async (HttpContext context) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(10), context.RequestAborted);
            return Results.Content("<html><head><title>Late</title></head></html>", "text/html");
        });
        // The OpenGraph tags come after more bytes than the server reads of a page.
        app.MapGet("/huge", () => Results.Content(
            "<html><head><!--" + new string('x', 2 * MediaTestSettings.MaxPageBytes) + "--><meta property=\"og:title\" content=\"Too far\"></head></html>",
            "text/html"));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new PreviewSite(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
