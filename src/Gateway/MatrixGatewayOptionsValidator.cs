using Microsoft.Extensions.Options;

namespace HomeServer.Gateway;

internal sealed class MatrixGatewayOptionsValidator : IValidateOptions<MatrixGatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, MatrixGatewayOptions options)
    {
        var failures = new List<string>();
        if (!IsHttpBaseUrl(options.PublicBaseUrl))
        {
            failures.Add($"PublicBaseUrl must be an absolute http or https URL without query or fragment (got '{options.PublicBaseUrl}').");
        }

        if (options.MaxRequestBodyBytes <= 0)
        {
            failures.Add($"MaxRequestBodyBytes must be greater than zero (got {options.MaxRequestBodyBytes}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static bool IsHttpBaseUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && uri.Query.Length == 0
        && uri.Fragment.Length == 0;
}
