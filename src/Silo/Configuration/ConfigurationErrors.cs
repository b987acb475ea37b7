using Microsoft.Extensions.Options;

namespace HomeServer.Silo.Configuration;

public static class ConfigurationErrors
{
    /// <summary>
    /// Collects the messages when <paramref name="exception"/> reports invalid options. Start-up
    /// validation throws one <see cref="OptionsValidationException"/>, or an
    /// <see cref="AggregateException"/> of them when several options are invalid.
    /// </summary>
    public static bool TryGetFailures(Exception exception, out IReadOnlyList<string> failures)
    {
        var validationErrors = exception switch
        {
            OptionsValidationException single => [single],
            AggregateException aggregate when aggregate.InnerExceptions.All(inner => inner is OptionsValidationException) =>
                aggregate.InnerExceptions.Cast<OptionsValidationException>().ToArray(),
            _ => Array.Empty<OptionsValidationException>(),
        };

        // An option derived from an invalid one fails with the same message, so each is reported once.
        failures = validationErrors.SelectMany(error => error.Failures).Distinct().ToArray();
        return validationErrors.Length > 0;
    }
}
