namespace HomeServer.Gateway.Errors;

public static class MatrixErrorCode
{
    public const string Unknown = "M_UNKNOWN";
    public const string Unrecognized = "M_UNRECOGNIZED";
    public const string NotJson = "M_NOT_JSON";
    public const string BadJson = "M_BAD_JSON";
    public const string TooLarge = "M_TOO_LARGE";
    public const string LimitExceeded = "M_LIMIT_EXCEEDED";
}
