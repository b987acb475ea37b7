using HomeServer.Silo;
using Microsoft.Extensions.Options;

namespace HomeServer.Server.Tests.Cluster;

public sealed class ClusterConfigurationTests
{
    [Theory]
    [InlineData("--Cluster:Role=gateway", "Cluster:Role=gateway needs Cluster:Membership=postgres")]
    [InlineData("--Cluster:Membership=postgres", "Cluster:Membership=postgres needs Cluster:ConnectionString")]
    [InlineData("--Cluster:SiloHost=silo.example", "Cluster:SiloHost 'silo.example' is not an IP address")]
    [InlineData("--Cluster:SiloPort=70000", "Cluster:SiloPort 70000 is not a TCP port")]
    public void Invalid_cluster_settings_stop_the_server_with_a_clear_message(string argument, string message)
    {
        var error = Assert.ThrowsAny<Exception>(() => HomeServerHost.Build(["--urls=http://127.0.0.1:0", argument]));
        var validation = Assert.IsType<OptionsValidationException>(error is AggregateException aggregate ? aggregate.InnerExceptions[0] : error);
        Assert.Contains(message, validation.Message);
    }
}
