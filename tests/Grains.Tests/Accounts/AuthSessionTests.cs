using HomeServer.Grains.Accounts;

namespace HomeServer.Grains.Tests.Accounts;

public sealed class AuthSessionTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    [Fact]
    public void A_session_expires_after_its_lifetime()
    {
        var session = new AuthSession("POST /register", Lifetime, Start);

        Assert.False(session.IsExpired(Start + Lifetime - TimeSpan.FromMilliseconds(1)));
        Assert.True(session.IsExpired(Start + Lifetime));
    }

    [Fact]
    public void Completing_a_stage_pushes_the_expiry_back()
    {
        var session = new AuthSession("POST /register", Lifetime, Start);

        session.Complete("m.login.dummy", Start + TimeSpan.FromMinutes(9));

        Assert.False(session.IsExpired(Start + TimeSpan.FromMinutes(18)));
        Assert.True(session.IsExpired(Start + TimeSpan.FromMinutes(19)));
    }

    [Fact]
    public void Completed_stages_are_kept_once_in_order()
    {
        var session = new AuthSession("op", Lifetime, Start);

        session.Complete("b", Start);
        session.Complete("a", Start);
        session.Complete("b", Start);

        Assert.Equal(new AuthSessionState("op", ["b", "a"]).Operation, session.State.Operation);
        Assert.Equal(["b", "a"], session.State.Completed);
    }
}
