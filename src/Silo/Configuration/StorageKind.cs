namespace HomeServer.Silo.Configuration;

public enum StorageKind
{
    Sqlite,
    Postgres,
}
