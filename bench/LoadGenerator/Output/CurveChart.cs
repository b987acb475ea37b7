using System.Globalization;
using System.Text;

namespace HomeServer.LoadGenerator.Output;

/// <summary>
/// Hand-written SVG of a scale curve: above, p50 and p99 latency; below, CPU milliseconds per event (the server's, and
/// PostgreSQL's when recorded); both against the point (clients, rooms) on a log x axis, both on log y axes.
/// </summary>
public static class CurveChart
{
    private const int Width = 860, Height = 660, Left = 80, Right = 150, PlotWidth = Width - Left - Right;

    private sealed record Panel(int Top, int Height, string YLabel, Series[] Series, Func<double, string> Format);

    private sealed record Series(string Name, string Color, Func<CurvePoint, double?> Value);

    public static string Draw(string title, CurveKind kind, IReadOnlyList<CurvePoint> points, string pointAxis)
    {
        var svg = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" font-family=\"sans-serif\" font-size=\"11\">\n")
            .Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n")
            .Append(SvgCharts.Text(Width / 2.0, 20, title, "middle", size: 14));
        if (points.Count == 0) return svg.Append(SvgCharts.Text(Width / 2.0, Height / 2.0, "no points", "middle")).Append("</svg>\n").ToString();

        var xLow = points[0].Point / (points.Count == 1 ? 3 : 1.5);
        var xHigh = points[^1].Point * (points.Count == 1 ? 3 : 1.5);
        double X(double point) => Left + PlotWidth * (Math.Log10(point) - Math.Log10(xLow)) / (Math.Log10(xHigh) - Math.Log10(xLow));

        Series[] latency = [new("p50", "#4e79a7", p => p.P50Ms), new("p99", "#e15759", p => p.P99Ms)];
        Series[] cpu = [new("server", "#59a14f", p => p.ServerCpuMsPerEvent), new("PostgreSQL", "#f28e2b", p => p.PostgresCpuMsPerEvent)];
        DrawPanel(svg, new Panel(50, 250, $"{kind.Latency} (log scale)", latency, SvgCharts.FormatMs), points, X);
        DrawPanel(svg, new Panel(365, 220, $"CPU per {kind.Events.TrimEnd('s')} (log scale)", cpu, CpuMs), points, X);
        svg.Append(SvgCharts.Text(Left + PlotWidth / 2.0, Height - 15, $"{pointAxis} (log scale); each point the median of its runs", "middle"));
        return svg.Append("</svg>\n").ToString();
    }

    private static void DrawPanel(StringBuilder svg, Panel panel, IReadOnlyList<CurvePoint> points, Func<double, double> x)
    {
        var bottom = panel.Top + panel.Height;
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left}\" y=\"{panel.Top}\" width=\"{PlotWidth}\" height=\"{panel.Height}\" fill=\"none\" stroke=\"#333\"/>\n");
        svg.Append(SvgCharts.Text(20, panel.Top + panel.Height / 2.0, panel.YLabel, "middle", rotate: true));
        foreach (var point in points)
        {
            svg.Append(SvgCharts.Line(x(point.Point), panel.Top, x(point.Point), bottom, "#eee"));
            svg.Append(SvgCharts.Line(x(point.Point), bottom, x(point.Point), bottom + 4, "#333"));
            svg.Append(SvgCharts.Text(x(point.Point), bottom + 17, point.Point.ToString("N0", CultureInfo.InvariantCulture), "middle"));
        }

        var values = panel.Series.SelectMany(series => points.Select(series.Value)).OfType<double>().Where(v => v > 0).ToArray();
        if (values.Length == 0)
        {
            svg.Append(SvgCharts.Text(Left + PlotWidth / 2.0, panel.Top + panel.Height / 2.0, "not recorded", "middle"));
            return;
        }
        var (low, high) = LogRange(values.Min(), values.Max());
        double Y(double value) => bottom - panel.Height * (Math.Log10(value) - Math.Log10(low)) / (Math.Log10(high) - Math.Log10(low));
        foreach (var tick in SvgCharts.LogTicks(low, high))
        {
            svg.Append(SvgCharts.Line(Left, Y(tick), Left + PlotWidth, Y(tick), "#eee"));
            svg.Append(SvgCharts.Line(Left - 4, Y(tick), Left, Y(tick), "#333"));
            svg.Append(SvgCharts.Text(Left - 7, Y(tick) + 4, panel.Format(tick), "end"));
        }

        var legendY = panel.Top + 14;
        foreach (var series in panel.Series)
        {
            var drawn = points.Where(p => series.Value(p) is > 0).ToArray();
            if (drawn.Length == 0) continue;
            var line = string.Join(' ', drawn.Select(p => string.Create(CultureInfo.InvariantCulture, $"{x(p.Point):0.#},{Y(series.Value(p)!.Value):0.#}")));
            svg.Append(CultureInfo.InvariantCulture, $"<polyline points=\"{line}\" fill=\"none\" stroke=\"{series.Color}\" stroke-width=\"2\"/>\n");
            foreach (var point in drawn)
            {
                var value = series.Value(point)!.Value;
                svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{x(point.Point):0.#}\" cy=\"{Y(value):0.#}\" r=\"3.5\" fill=\"{series.Color}\"/>\n");
                svg.Append(SvgCharts.Text(x(point.Point) + 6, Y(value) - 6, panel.Format(value), "start"));
            }
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left + PlotWidth + 12}\" y1=\"{legendY - 4}\" x2=\"{Left + PlotWidth + 32}\" y2=\"{legendY - 4}\" stroke=\"{series.Color}\" stroke-width=\"2\"/>\n");
            svg.Append(SvgCharts.Text(Left + PlotWidth + 38, legendY, series.Name, "start"));
            legendY += 18;
        }
    }

    /// <summary>A 1-2-5 value below the smallest and one above the largest, with some room, so both ends carry a tick.</summary>
    private static (double Low, double High) LogRange(double min, double max)
    {
        static double[] Steps(double value)
        {
            var decade = Math.Pow(10, Math.Floor(Math.Log10(value)));
            return [decade / 2, decade, 2 * decade, 5 * decade, 10 * decade, 20 * decade];
        }
        var (low, high) = (min / 1.25, max * 1.25);
        return (Steps(low).Last(v => v <= low), Steps(high).First(v => v >= high));
    }

    private static string CpuMs(double ms) => ms.ToString(ms < 0.01 ? "0.####" : ms < 1 ? "0.###" : ms < 10 ? "0.##" : "0", CultureInfo.InvariantCulture) + " ms";
}
