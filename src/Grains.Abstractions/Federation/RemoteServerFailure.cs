namespace HomeServer.Grains.Federation;

/// <summary>
/// The error code a grain refuses a client request with when the other servers it needed could not be reached or
/// gave no valid answer. It is the gateway's to translate (502 with <c>M_UNKNOWN</c>, as Synapse answers); clients
/// never see this code itself.
/// </summary>
public static class RemoteServerFailure
{
    public const string ErrCode = "HS_REMOTE_SERVER_FAILED";

    public static MatrixRequestException Of(string error) => new(ErrCode, error);
}
