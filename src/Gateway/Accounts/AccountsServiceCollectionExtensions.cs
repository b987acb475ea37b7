using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace HomeServer.Gateway.Accounts;

internal static class AccountsServiceCollectionExtensions
{
    /// <summary>What the account endpoints need. The host configures <see cref="RegistrationSettings"/>, <see cref="PasswordHashingOptions"/> and <see cref="PasswordPolicyOptions"/>.</summary>
    public static IServiceCollection AddMatrixAccounts(this IServiceCollection services)
    {
        services.AddOptions<RegistrationSettings>();
        services.AddOptions<PasswordHashingOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PasswordHashingOptions>, PasswordHashingOptionsValidator>());
        services.AddOptions<PasswordPolicyOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PasswordPolicyOptions>, PasswordPolicyOptionsValidator>());
        services.TryAddSingleton<AccountPasswords>();
        services.TryAddSingleton<PasswordHasher>();
        services.TryAddSingleton<UserInteractiveAuth>();
        return services;
    }
}
