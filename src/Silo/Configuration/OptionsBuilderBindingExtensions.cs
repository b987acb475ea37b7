using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace HomeServer.Silo.Configuration;

internal static class OptionsBuilderBindingExtensions
{
    /// <summary>
    /// Binds like <c>Bind</c>, but a value the binder cannot convert (an unknown enum name, a malformed
    /// TimeSpan) is reported as a validation failure, so it reaches the operator like every other
    /// configuration error instead of as a stack trace.
    /// </summary>
    public static OptionsBuilder<T> BindReportingErrors<T>(this OptionsBuilder<T> builder, IConfiguration configuration)
        where T : class
    {
        builder.Configure(options =>
        {
            try
            {
                configuration.Bind(options);
            }
            catch (InvalidOperationException exception)
            {
                throw new OptionsValidationException(builder.Name, typeof(T), [exception.Message]);
            }
        });
        return builder;
    }
}
