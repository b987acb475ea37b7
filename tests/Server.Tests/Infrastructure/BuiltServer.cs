using HomeServer.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace HomeServer.Server.Tests.Infrastructure;

/// <summary>Builds the real server without starting it, to read what its configuration resolved to.</summary>
public static class BuiltServer
{
    public static async Task<T> ReadAsync<T>(string[] args, Func<IServiceProvider, T> read)
    {
        var app = HomeServerHost.Build(args);
        try
        {
            return read(app.Services);
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    public static Task<T> OptionsAsync<T>(params string[] args) where T : class =>
        ReadAsync(args, services => services.GetRequiredService<IOptions<T>>().Value);

    /// <summary>The messages an operator gets when building the server with <paramref name="args"/> fails.</summary>
    public static IReadOnlyList<string> ConfigurationFailures(params string[] args)
    {
        var exception = Assert.ThrowsAny<Exception>(() => HomeServerHost.Build(args));
        Assert.True(Silo.Configuration.ConfigurationErrors.TryGetFailures(exception, out var failures), exception.ToString());
        return failures;
    }
}
