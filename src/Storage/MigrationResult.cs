namespace HomeServer.Storage;

/// <summary>What a schema migration run did.</summary>
/// <param name="AppliedVersions">The versions applied by this run, ascending; empty when the schema was current.</param>
public sealed record MigrationResult(int PreviousVersion, int CurrentVersion, IReadOnlyList<int> AppliedVersions);
