namespace HomeServer.Storage;

/// <param name="Tokens">Tokens left when the bucket was last updated, at <paramref name="UpdatedTs"/> (Unix ms).</param>
public sealed record StoredTokenBucket(string Subject, string Action, double Tokens, long UpdatedTs);
