using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using HomeServer.LoadGenerator.Http;
using HomeServer.LoadGenerator.Measurement;
using HomeServer.LoadGenerator.Output;
using SkiaSharp;

namespace HomeServer.LoadGenerator.Scenarios;

public sealed record ThumbnailOptions(int Images, int Width, int Height, int CachedRequests);

/// <summary>
/// Thumbnails of large photos: uploads N distinct JPEGs of W×H (a gradient with shapes and noise, so the codec has
/// real work), then for each asks once for an 800×600 scale thumbnail (generated: decode, resize, encode, write) and
/// then C more times (served from the cached file), and the same for a 96×96 crop. Reports the latency of first and
/// cached requests and the server's count of thumbnails generated.
/// </summary>
public static class ThumbnailScenario
{
    private const string Thumbnailed = "homeserver.media.thumbnails_generated";

    public static async Task<IReadOnlyList<RunResult>> RunAsync(BenchContext bench, ThumbnailOptions options, CancellationToken ct)
    {
        var api = bench.Api;
        var admin = await bench.RegisterAdminAsync(ct);
        var user = await Phases.RetryAsync(() => api.RegisterAsync(bench.Localpart("uploader", 0), admin: false, ct), ct);
        var mediaIds = new List<string>();
        long jpegBytes = 0;
        for (var i = 0; i < options.Images; i++)
        {
            var jpeg = Photo(options.Width, options.Height, seed: i);
            jpegBytes = jpeg.Length;
            mediaIds.Add(await UploadAsync(api, user, jpeg, ct));
        }

        var startedAt = DateTimeOffset.UtcNow;
        var load = MachineInfo.LoadAverage();
        var counters = bench.CountersOf(admin);
        var before = await counters.ReadAsync(ct);
        var cpuBefore = bench.Server.CpuSeconds();
        bench.Server.TakePeakRssBytes();
        var first = new LatencyRecorder();
        var cached = new LatencyRecorder();
        var firstCrop = new LatencyRecorder();
        var cachedCrop = new LatencyRecorder();
        foreach (var id in mediaIds)
        {
            foreach (var (query, firstLatency, cachedLatency) in new[]
                     {
                         ("width=800&height=600&method=scale", first, cached),
                         ("width=96&height=96&method=crop", firstCrop, cachedCrop),
                     })
            {
                var path = $"/_matrix/client/v1/media/thumbnail/{ServerName(user)}/{id}?{query}";
                firstLatency.Record(await TimedGetAsync(api, user, path, ct));
                for (var c = 0; c < options.CachedRequests; c++) cachedLatency.Record(await TimedGetAsync(api, user, path, ct));
            }
        }
        var cpuSeconds = BenchContext.Minus(bench.Server.CpuSeconds(), cpuBefore);
        var peakRss = bench.Server.TakePeakRssBytes();
        var delta = ServerCounters.Delta(before, await counters.ReadAsync(ct));
        delta.TryGetValue(Thumbnailed, out var generated);

        var (f, c2, fc, cc) = (first.Summarise(), cached.Summarise(), firstCrop.Summarise(), cachedCrop.Summarise());
        var measured = new Dictionary<string, object?>
        {
            ["load_average_at_start"] = load,
            ["jpeg_bytes"] = jpegBytes,
            ["first_scale_800x600_ms"] = f,
            ["cached_scale_800x600_ms"] = c2,
            ["first_crop_96x96_ms"] = fc,
            ["cached_crop_96x96_ms"] = cc,
            ["thumbnails_generated"] = generated,
            ["server_cpu_seconds"] = cpuSeconds,
            ["server_rss_mib_peak"] = BenchContext.Mib(peakRss),
            ["server_counters_delta"] = delta,
        };
        var rows = new List<(string, string)>
        {
            ("load average at start (1/5/15 min)", load),
            ("images / size / JPEG bytes (last)", $"{options.Images} / {options.Width}×{options.Height} / {jpegBytes / 1048576.0:0.0} MiB"),
            ("800×600 scale, first request (generated) p50 / max", $"{SvgCharts.FormatMs(f.P50)} / {SvgCharts.FormatMs(f.Max)}"),
            ("800×600 scale, cached p50 / p99", $"{SvgCharts.FormatMs(c2.P50)} / {SvgCharts.FormatMs(c2.P99)}"),
            ("96×96 crop, first request (generated) p50 / max", $"{SvgCharts.FormatMs(fc.P50)} / {SvgCharts.FormatMs(fc.Max)}"),
            ("96×96 crop, cached p50 / p99", $"{SvgCharts.FormatMs(cc.P50)} / {SvgCharts.FormatMs(cc.P99)}"),
            ("thumbnails generated (server counter) / expected", $"{generated} / {options.Images * 2}"),
            ("server CPU s; server RSS peak (MiB)", $"{ResultWriter.Format(cpuSeconds)}; {ResultWriter.Format(BenchContext.Mib(peakRss))}"),
        };
        var parameters = new Dictionary<string, object?>
        {
            ["images"] = options.Images, ["width"] = options.Width, ["height"] = options.Height, ["cached_requests"] = options.CachedRequests,
        };
        var svg = SvgCharts.Histogram($"thumbnail: {options.Width}×{options.Height} JPEG, cached 800×600 requests", cached.SortedSamples());
        return [new RunResult("thumbnail", startedAt, parameters, measured, rows, svg)];
    }

    // The server name is the part after the colon of a user id.
    private static string ServerName(User user) => user.UserId[(user.UserId.IndexOf(':') + 1)..];

    private static async Task<string> UploadAsync(MatrixApi api, User user, byte[] jpeg, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/_matrix/media/v3/upload?filename=photo.jpg") { Content = new ByteArrayContent(jpeg) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        using var response = await api.Http.SendAsync(request, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        if (response.StatusCode != HttpStatusCode.OK) throw new MatrixRequestFailed(response.StatusCode, $"upload answered {(int)response.StatusCode}: {text}");
        var uri = System.Text.Json.JsonDocument.Parse(text).RootElement.GetProperty("content_uri").GetString()!;
        return uri[(uri.LastIndexOf('/') + 1)..];
    }

    private static async Task<double> TimedGetAsync(MatrixApi api, User user, string path, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        var started = Stopwatch.GetTimestamp();
        using var response = await api.Http.SendAsync(request, ct);
        var bytes = await response.Content.ReadAsByteArrayAsync(ct);
        var elapsed = LatencyRecorder.Milliseconds(started, Stopwatch.GetTimestamp());
        if (response.StatusCode != HttpStatusCode.OK || bytes.Length == 0)
            throw new MatrixRequestFailed(response.StatusCode, $"GET {path} answered {(int)response.StatusCode}");
        return elapsed;
    }

    /// <summary>A photo-like JPEG: a diagonal gradient, circles and light noise, different per seed.</summary>
    private static byte[] Photo(int width, int height, int seed)
    {
        var random = new Random(seed);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(bitmap))
        {
            using var gradient = new SKPaint
            {
                Shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), new SKPoint(width, height),
                    [new SKColor((byte)random.Next(256), 80, 160), new SKColor(240, (byte)random.Next(256), 40)], SKShaderTileMode.Clamp),
            };
            canvas.DrawRect(0, 0, width, height, gradient);
            using var paint = new SKPaint { IsAntialias = true };
            for (var i = 0; i < 200; i++)
            {
                paint.Color = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256), 160);
                canvas.DrawCircle(random.Next(width), random.Next(height), random.Next(10, width / 8), paint);
            }
        }
        var pixels = bitmap.GetPixelSpan();
        var noise = new byte[pixels.Length];
        random.NextBytes(noise);
        var writable = System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(pixels), pixels.Length);
        for (var p = 0; p < writable.Length; p += 4)
        {
            var n = (noise[p] & 15) - 8;
            writable[p] = (byte)Math.Clamp(writable[p] + n, 0, 255);
            writable[p + 1] = (byte)Math.Clamp(writable[p + 1] + n, 0, 255);
            writable[p + 2] = (byte)Math.Clamp(writable[p + 2] + n, 0, 255);
        }
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Jpeg, 90);
        return data.ToArray();
    }
}
