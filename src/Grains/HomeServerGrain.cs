using Orleans;

namespace HomeServer.Grains;

/// <summary>The base of the homeserver's grains: every one is keyed by a string (a user id, a room id, …).</summary>
public abstract class HomeServerGrain : Grain
{
    protected string Key => this.GetPrimaryKeyString();
}
