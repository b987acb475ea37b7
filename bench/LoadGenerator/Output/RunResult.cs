namespace HomeServer.LoadGenerator.Output;

/// <summary>
/// What a scenario run produced: its parameters and measured values (written to JSON), the rows of its Markdown
/// table and the SVG chart of its latency distribution.
/// </summary>
public sealed record RunResult(
    string Scenario,
    DateTimeOffset StartedAt,
    IReadOnlyDictionary<string, object?> Parameters,
    IReadOnlyDictionary<string, object?> Measured,
    IReadOnlyList<(string Name, string Value)> TableRows,
    string Svg);
