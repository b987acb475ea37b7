namespace HomeServer.Silo.Configuration;

public enum RegistrationMode
{
    /// <summary>Anyone who can reach the server may create an account.</summary>
    Open,

    /// <summary>An account needs one of the configured registration tokens.</summary>
    Token,

    /// <summary>No self-service registration.</summary>
    Disabled,
}
