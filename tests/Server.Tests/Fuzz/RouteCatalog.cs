using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;

namespace HomeServer.Server.Tests.Fuzz;

/// <summary>One route of the running server: its pattern and the methods mapped to it.</summary>
public sealed record FuzzRoute(RoutePattern Pattern, IReadOnlyList<string> Methods)
{
    public string Template => Pattern.RawText ?? "";

    public IEnumerable<string> ParameterNames => Pattern.Parameters.Select(parameter => parameter.Name);
}

/// <summary>
/// Every route the server maps, read from the same <see cref="EndpointDataSource"/> routing uses, so routes added later
/// are fuzzed without anyone listing them.
/// </summary>
public static class RouteCatalog
{
    public static IReadOnlyList<FuzzRoute> Read(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .GroupBy(endpoint => endpoint.RoutePattern.RawText ?? "")
            .Select(group => new FuzzRoute(
                group.First().RoutePattern,
                group.SelectMany(endpoint => endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                    .Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal).ToArray()))
            // Catch-all routes (the Orleans dashboard's static files) are fuzzed through their prefix like any other.
            .OrderBy(route => route.Template, StringComparer.Ordinal)
            .ToArray();

    /// <summary>The path of <paramref name="route"/> with each parameter replaced by the given raw (already escaped) text.</summary>
    public static string Path(FuzzRoute route, Func<RoutePatternParameterPart, string> value)
    {
        var builder = new System.Text.StringBuilder();
        foreach (var segment in route.Pattern.PathSegments)
        {
            var parts = new System.Text.StringBuilder();
            foreach (var part in segment.Parts)
            {
                switch (part)
                {
                    case RoutePatternLiteralPart literal:
                        parts.Append(literal.Content);
                        break;
                    case RoutePatternSeparatorPart separator:
                        parts.Append(separator.Content);
                        break;
                    case RoutePatternParameterPart parameter:
                        parts.Append(value(parameter));
                        break;
                }
            }
            // An optional parameter left empty drops its segment, as routing does.
            if (parts.Length > 0) builder.Append('/').Append(parts);
        }
        return builder.Length == 0 ? "/" : builder.ToString();
    }
}
