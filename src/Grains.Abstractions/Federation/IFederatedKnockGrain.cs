using Orleans;

namespace HomeServer.Grains.Federation;

/// <summary>
/// Knocks of this server's users on one room of another server (key: the room id), through <c>make_knock</c> and
/// <c>send_knock</c>; the knock is kept with the room's stripped state for the user's /sync until an invite replaces it
/// or the user rescinds it (a leave, see <see cref="IFederatedInviteGrain.RejectAsync"/>). The same activation as the
/// room's invites. See docs/adr/0045-federated-knocks-restricted-joins-presence.md.
/// </summary>
[Alias("federated-knock")]
public interface IFederatedKnockGrain : IGrainWithStringKey
{
    /// <summary>
    /// Knocks through <paramref name="servers"/> in turn. A resident's refusal (403) or an incompatible room version is
    /// passed on; when every server fails the answer is 502 <c>M_UNKNOWN</c> naming what each did.
    /// </summary>
    Task KnockAsync(string userId, string? reason, IReadOnlyList<string> servers);
}
