namespace HomeServer.Storage;

/// <summary>Sync filters uploaded by users; ids are allocated per user, starting at 0.</summary>
public interface IFilterStore
{
    /// <summary>Stores the filter (a JSON object) and returns its new id. Throws <see cref="EntityNotFoundException"/> for an unknown user.</summary>
    Task<long> CreateFilterAsync(string userId, byte[] filterJson, CancellationToken cancellationToken);

    Task<byte[]?> GetFilterAsync(string userId, long filterId, CancellationToken cancellationToken);
}
