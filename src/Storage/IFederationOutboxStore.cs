namespace HomeServer.Storage;

/// <summary>
/// EDUs owed to other servers that must not be lost on a restart (to-device messages, docs/adr/0040): kept per
/// destination until a transaction carrying them is answered.
/// </summary>
public interface IFederationOutboxStore
{
    /// <summary>Stores the EDUs, all in one transaction.</summary>
    Task EnqueueAsync(IReadOnlyList<NewOutboxEdu> edus, CancellationToken cancellationToken);

    /// <summary>The destination's oldest EDUs, in id order, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<OutboxEdu>> GetAsync(string destination, int limit, CancellationToken cancellationToken);

    /// <summary>Deletes the destination's EDUs with these ids (they were delivered).</summary>
    Task DeleteAsync(string destination, IReadOnlyCollection<long> ids, CancellationToken cancellationToken);

    /// <summary>Every destination with an EDU waiting, for the catch-up after a start.</summary>
    Task<IReadOnlyList<string>> ListDestinationsAsync(CancellationToken cancellationToken);
}

/// <param name="Content">The EDU's content, one JSON object.</param>
public sealed record NewOutboxEdu(string Destination, string EduType, byte[] Content, long CreatedTs);

public sealed record OutboxEdu(long Id, string EduType, byte[] Content);
