using System.Globalization;
using System.Net;
using System.Text;
using HomeServer.LoadGenerator.Measurement;

namespace HomeServer.LoadGenerator.Output;

/// <summary>Hand-written SVG: a latency histogram on log-spaced bins with its CDF, and a latency timeline.</summary>
public static class SvgCharts
{
    private const int Width = 860, Height = 420, Left = 70, Right = 60, Top = 40, Bottom = 60;
    private const int PlotWidth = Width - Left - Right, PlotHeight = Height - Top - Bottom;
    private const int Bins = 60;

    /// <summary>Bars: share of samples per log-spaced bin (left axis); line: cumulative share (right axis).</summary>
    public static string Histogram(string title, double[] sortedMs)
    {
        var svg = Begin(title);
        if (sortedMs.Length == 0) return End(svg.Append(Text(Left + PlotWidth / 2, Top + PlotHeight / 2, "no samples", "middle")));

        var low = Math.Max(0.1, sortedMs[0]);
        var high = Math.Max(low * 10, sortedMs[^1] * 1.0001);
        double X(double ms) => Left + PlotWidth * (Math.Log10(Math.Max(ms, low)) - Math.Log10(low)) / (Math.Log10(high) - Math.Log10(low));

        var counts = new long[Bins];
        foreach (var ms in sortedMs)
        {
            var bin = (int)((X(ms) - Left) / PlotWidth * Bins);
            counts[Math.Clamp(bin, 0, Bins - 1)]++;
        }
        var tallest = counts.Max() / (double)sortedMs.Length;
        var yMax = NiceCeiling(tallest * 100);
        double Y(double percent) => Top + PlotHeight - PlotHeight * percent / yMax;

        AxisFrame(svg);
        for (var i = 0; i <= 4; i++)
        {
            var percent = yMax * i / 4;
            svg.Append(Line(Left - 4, Y(percent), Left, Y(percent), "#333"));
            svg.Append(Text(Left - 8, Y(percent) + 4, Format(percent) + " %", "end"));
            svg.Append(Text(Left + PlotWidth + 8, Top + PlotHeight - PlotHeight * i / 4.0 + 4, $"{25 * i} %", "start"));
        }
        foreach (var tick in LogTicks(low, high))
        {
            svg.Append(Line(X(tick), Top + PlotHeight, X(tick), Top + PlotHeight + 4, "#333"));
            svg.Append(Line(X(tick), Top, X(tick), Top + PlotHeight, "#eee"));
            svg.Append(Text(X(tick), Top + PlotHeight + 18, FormatMs(tick), "middle"));
        }
        var binWidth = PlotWidth / (double)Bins;
        for (var bin = 0; bin < Bins; bin++)
        {
            if (counts[bin] == 0) continue;
            var y = Y(100.0 * counts[bin] / sortedMs.Length);
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left + bin * binWidth:0.#}\" y=\"{y:0.#}\" width=\"{binWidth - 1:0.#}\" height=\"{Top + PlotHeight - y:0.#}\" fill=\"#4e79a7\"/>\n");
        }
        var cdf = new StringBuilder();
        var step = Math.Max(1, sortedMs.Length / 2000);
        for (var i = 0; i < sortedMs.Length; i += step) cdf.Append(CultureInfo.InvariantCulture, $"{X(sortedMs[i]):0.#},{Top + PlotHeight - PlotHeight * (i + 1.0) / sortedMs.Length:0.#} ");
        cdf.Append(CultureInfo.InvariantCulture, $"{X(sortedMs[^1]):0.#},{Top:0.#}");
        svg.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{cdf}\" fill=\"none\" stroke=\"#e15759\" stroke-width=\"2\"/>\n");

        var summary = LatencySummary.Of(sortedMs);
        foreach (var (label, value) in new[] { ("p50", summary.P50), ("p99", summary.P99), ("max", summary.Max) })
        {
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{X(value):0.#}\" y1=\"{Top}\" x2=\"{X(value):0.#}\" y2=\"{Top + PlotHeight}\" stroke=\"#555\" stroke-dasharray=\"4 3\"/>\n");
            svg.Append(Text(X(value) + 3, Top + 12, $"{label} {FormatMs(value)}", "start"));
        }
        svg.Append(Text(Left + PlotWidth / 2, Height - 15, $"latency (log scale), {sortedMs.Length:N0} samples", "middle"));
        svg.Append(Text(15, Top + PlotHeight / 2, "share of samples (bars)", "middle", rotate: true));
        svg.Append(Text(Width - 12, Top + PlotHeight / 2, "cumulative (line)", "middle", rotate: true));
        return End(svg);
    }

    public sealed record TimelinePoint(double Second, double P50, double P99, double Max, long Errors);

    public sealed record Interval(double FromSecond, double ToSecond, string Label);

    /// <summary>Per-second p50/p99/max delivery latency against time, with the marked intervals shaded.</summary>
    public static string Timeline(string title, IReadOnlyList<TimelinePoint> points, IReadOnlyList<Interval> intervals)
    {
        var svg = Begin(title);
        if (points.Count == 0) return End(svg.Append(Text(Left + PlotWidth / 2, Top + PlotHeight / 2, "no samples", "middle")));
        var xMax = Math.Max(points[^1].Second + 1, intervals.Count == 0 ? 0 : intervals.Max(i => i.ToSecond));
        var yMax = NiceCeiling(Math.Max(1, points.Max(p => p.Max)));
        double X(double second) => Left + PlotWidth * second / xMax;
        double Y(double ms) => Top + PlotHeight - PlotHeight * Math.Min(ms, yMax) / yMax;

        foreach (var interval in intervals)
        {
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{X(interval.FromSecond):0.#}\" y=\"{Top}\" width=\"{Math.Max(1, X(interval.ToSecond) - X(interval.FromSecond)):0.#}\" height=\"{PlotHeight}\" fill=\"#f1ce63\" fill-opacity=\"0.35\"/>\n");
            svg.Append(Text(X(interval.FromSecond) + 2, Top - 6, interval.Label, "start"));
        }
        AxisFrame(svg);
        for (var i = 0; i <= 4; i++)
        {
            svg.Append(Line(Left - 4, Y(yMax * i / 4), Left, Y(yMax * i / 4), "#333"));
            svg.Append(Text(Left - 8, Y(yMax * i / 4) + 4, FormatMs(yMax * i / 4), "end"));
        }
        var xStep = NiceCeiling(xMax / 10);
        for (var second = 0.0; second <= xMax; second += xStep)
        {
            svg.Append(Line(X(second), Top + PlotHeight, X(second), Top + PlotHeight + 4, "#333"));
            svg.Append(Text(X(second), Top + PlotHeight + 18, $"{second:0} s", "middle"));
        }
        foreach (var (color, value) in new (string, Func<TimelinePoint, double>)[] { ("#bab0ac", p => p.Max), ("#e15759", p => p.P99), ("#4e79a7", p => p.P50) })
        {
            var line = string.Join(' ', points.Select(p => string.Create(CultureInfo.InvariantCulture, $"{X(p.Second):0.#},{Y(value(p)):0.#}")));
            svg.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{line}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\"/>\n");
        }
        foreach (var point in points.Where(p => p.Errors > 0))
            svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(point.Second):0.#}\" cy=\"{Top + PlotHeight - 4}\" r=\"3\" fill=\"#d62728\"><title>{point.Errors} errors</title></circle>\n");
        svg.Append(Text(Left + PlotWidth / 2, Height - 15, "time since the start of the measured window (s); blue p50, red p99, grey max per second; red dots: failed requests", "middle"));
        svg.Append(Text(15, Top + PlotHeight / 2, "delivery latency", "middle", rotate: true));
        return End(svg);
    }

    private static StringBuilder Begin(string title) => new StringBuilder()
        .Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"11\">\n")
        .Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n")
        .Append(Text(Width / 2, 20, title, "middle", size: 14));

    private static string End(StringBuilder svg) => svg.Append("</svg>\n").ToString();

    private static void AxisFrame(StringBuilder svg) =>
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{PlotWidth}\" height=\"{PlotHeight}\" fill=\"none\" stroke=\"#333\"/>\n");

    internal static string Line(double x1, double y1, double x2, double y2, string color) =>
        string.Create(CultureInfo.InvariantCulture, $"<line x1=\"{x1:0.#}\" y1=\"{y1:0.#}\" x2=\"{x2:0.#}\" y2=\"{y2:0.#}\" stroke=\"{color}\"/>\n");

    internal static string Text(double x, double y, string text, string anchor, bool rotate = false, int size = 11) =>
        string.Create(CultureInfo.InvariantCulture,
            $"<text x=\"{x:0.#}\" y=\"{y:0.#}\" text-anchor=\"{anchor}\" font-size=\"{size}\"{(rotate ? $" transform=\"rotate(-90 {x:0.#} {y:0.#})\"" : "")}>{WebUtility.HtmlEncode(text)}</text>\n");

    internal static IEnumerable<double> LogTicks(double low, double high)
    {
        for (var decade = Math.Pow(10, Math.Floor(Math.Log10(low))); decade <= high; decade *= 10)
            foreach (var multiple in new[] { 1, 2, 5 })
                if (decade * multiple >= low && decade * multiple <= high) yield return decade * multiple;
    }

    private static double NiceCeiling(double value)
    {
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(value)));
        foreach (var step in new[] { 1, 2, 2.5, 5, 10 })
            if (step * magnitude >= value) return step * magnitude;
        return 10 * magnitude;
    }

    private static string Format(double value) => value.ToString(value < 10 ? "0.#" : "0", CultureInfo.InvariantCulture);

    public static string FormatMs(double ms) => ms >= 1000
        ? (ms / 1000).ToString("0.##", CultureInfo.InvariantCulture) + " s"
        : ms.ToString(ms < 10 ? "0.##" : "0", CultureInfo.InvariantCulture) + " ms";
}
