using System.Text;

namespace HomeServer.Storage.Sql;

/// <summary>
/// The dialect of the event search index, table <c>event_search</c>: an FTS5 table on SQLite (rowid = the event's
/// global position), a tsvector column with a GIN index on PostgreSQL. Both use English stemming.
/// </summary>
internal abstract class FullTextSql
{
    /// <summary>Inserts one row from @position, @room, @key and @value.</summary>
    public abstract string InsertSql { get; }

    /// <summary>The column of <c>event_search</c> holding the event's global position.</summary>
    public abstract string PositionColumn { get; }

    /// <summary>The condition that a row of <c>event_search</c> matches the parameter @query.</summary>
    public abstract string MatchCondition { get; }

    /// <summary>The rank of a matching row as a double; higher is closer.</summary>
    public abstract string ScoreExpression { get; }

    /// <summary>The value of @query for a search term, or null when the term can match nothing.</summary>
    public abstract string? Query(string term);

    /// <summary>A SQL expression for the string at <paramref name="path"/> (e.g. content.join_rule) of a JSON BLOB/BYTEA column.</summary>
    public abstract string JsonString(string column, params string[] path);

    /// <summary>A value as it can be indexed: PostgreSQL text cannot hold NUL.</summary>
    public static string Indexable(string value) => value.Contains('\0') ? value.Replace("\0", "") : value;

    public sealed class Sqlite : FullTextSql
    {
        public override string InsertSql => "INSERT INTO event_search (rowid, room_id, key, value) VALUES (@position, @room, @key, @value)";
        public override string PositionColumn => "rowid";
        public override string MatchCondition => "event_search MATCH @query";
        public override string ScoreExpression => "-bm25(event_search)";

        // Every word must occur; each is quoted so that FTS5's query syntax cannot be injected.
        public override string? Query(string term)
        {
            var words = SearchTerms.Words(term);
            if (words.Count == 0) return null;
            var query = new StringBuilder();
            foreach (var word in words) query.Append(query.Length == 0 ? "" : " ").Append('"').Append(word).Append('"');
            return query.ToString();
        }

        public override string JsonString(string column, params string[] path) =>
            $"json_extract(CAST({column} AS TEXT), '$.{string.Join('.', path)}')";
    }

    public sealed class Postgres : FullTextSql
    {
        public override string InsertSql =>
            "INSERT INTO event_search (global_position, room_id, key, vector) VALUES (@position, @room, @key, to_tsvector('english', @value))";
        public override string PositionColumn => "global_position";
        public override string MatchCondition => "event_search.vector @@ websearch_to_tsquery('english', @query)";
        public override string ScoreExpression => "ts_rank(event_search.vector, websearch_to_tsquery('english', @query))::float8";

        public override string? Query(string term) => string.IsNullOrWhiteSpace(term) ? null : Indexable(term);

        // The json column is BYTEA; a "\u0000" escape, which PostgreSQL's jsonb cannot hold, reads as no value.
        public override string JsonString(string column, params string[] path) =>
            $"(CASE WHEN strpos(convert_from({column}, 'UTF8'), '\\u0000') = 0 " +
            $"THEN convert_from({column}, 'UTF8')::jsonb #>> '{{{string.Join(',', path)}}}' END)";
    }
}
