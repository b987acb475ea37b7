using HomeServer.Grains.Federation.Outbound;

namespace HomeServer.Grains.Tests.Federation.Outbound;

public sealed class RetryBackoffTests
{
    private static readonly TimeSpan Initial = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Max = TimeSpan.FromHours(1);

    [Theory]
    [InlineData(1, 10)]
    [InlineData(2, 20)]
    [InlineData(5, 160)]
    public void The_delay_doubles_with_each_failure_in_a_row_within_half_and_all_of_it(int failures, int fullSeconds)
    {
        var random = new Random(7);
        for (var i = 0; i < 100; i++)
        {
            var delay = RetryBackoff.Delay(failures, Initial, Max, random);
            Assert.InRange(delay.TotalSeconds, fullSeconds / 2.0, fullSeconds);
        }
    }

    [Theory]
    [InlineData(10)]
    [InlineData(40)]
    [InlineData(int.MaxValue)]
    public void The_delay_never_exceeds_the_maximum(int failures)
    {
        var delay = RetryBackoff.Delay(failures, Initial, Max, new Random(3));
        Assert.InRange(delay, Max / 2, Max);
    }

    [Fact]
    public void Jitter_spreads_the_delays()
    {
        var random = new Random(11);
        var delays = Enumerable.Range(0, 20).Select(_ => RetryBackoff.Delay(3, Initial, Max, random)).Distinct().Count();
        Assert.True(delays > 10);
    }
}
