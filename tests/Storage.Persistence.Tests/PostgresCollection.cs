using Storage.TestKit;

namespace Storage.Persistence.Tests;

/// <summary>All classes that need the shared throwaway PostgreSQL server; each makes its own database.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}
